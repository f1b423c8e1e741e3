"""Who may do what: every back-office route and every API write, tried by four visitors.

The visitors: an anonymous browser or client, a facilitator of another council (Rive Droite,
the objects belong to Tamaris), an account deactivated after signing in and taking a token,
and an administrator. Pages are visited with a session (and a valid CSRF token: what is
tested here is the guard, not the CSRF check); the API with a bearer token. Each route has
one row in ROUTES; a route of the application that has no row, or a row that matches no
route, fails the test: a new route cannot ship without its permissions written down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from litestar import Litestar

from accounts import management
from accounts.services import facilitator_view
from accounts.tables import ApiToken, Facilitator
from conseils.app import create_app
from conseils.counters import counters
from meetings.tables import Council, Quartier, Registration
from minutes.demo import demo_pdf, keep_bytes
from minutes.tables import Document, Minutes
from notifications.tables import OutboxMessage
from proposals.tables import Proposal
from tests.support.backoffice_support import csrf_token, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.registration_support import MEETING, person, published_meeting

pytestmark = pytest.mark.engine_independent

ANONYMOUS, OTHER, DEACTIVATED, ADMIN = "anonymous", "other council", "deactivated", "admin"
VISITORS = (ANONYMOUS, OTHER, DEACTIVATED, ADMIN)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as the application declares it, `{meeting_id:int}` and all
    statuses: tuple[int, int, int, int]  # anonymous, other council, deactivated, admin
    form: dict[str, str] = field(default_factory=dict)  # back-office forms ({ids} filled in)
    json: Any = None  # API bodies
    upload: bool = False  # a multipart form with a PDF (`form` its fields)
    ends_session: bool = False  # signs out or revokes the token: tried after the others
    # A parameter filled with another object than its namesake ({"proposal_id":
    # "published_proposal_id"}: residents support only published proposals).
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


MEETING_FORM = {  # the back-office form of MEETING (Paris time)
    "form_key": "permissions", "council": "ales-tamaris", "kind": "cafe",
    "title": "Une réunion du formulaire", "starts_at_date": MEETING["starts_at"][:10],
    "starts_at_time": "18:00", "ends_at_time": "20:00", "venue": "Maison de quartier",
    "address": "Rue de la Lozère, 30100 Alès", "capacity": "3",
}  # fmt: skip
DOCUMENT_FORM = {"title": "Fiche projet", "category": "fph", "council": "ales-tamaris",
                 "issued_on": "2026-01-15"}  # fmt: skip
SIGN_IN = (303, 303, 303, 303)  # a back-office page: anonymous GET → the sign-in page
ROUTES = [
    # The back-office's doors
    Case("GET", "/animation/connexion", (200, 200, 200, 200)),
    Case("POST", "/animation/connexion", (401, 401, 401, 401),
         form={"email": "x@example.org", "password": "wrong password!"}),
    Case("POST", "/animation/deconnexion", (303, 303, 303, 303), ends_session=True),
    Case("GET", "/animation", (303, 200, 303, 200)),
    # Meetings: a council's own (another council's, draft or published, is not found)
    Case("GET", "/animation/reunions", (303, 200, 303, 200)),
    Case("GET", "/animation/reunions/nouvelle", (303, 200, 303, 200)),
    Case("POST", "/animation/reunions/nouvelle", (401, 403, 401, 303), form=MEETING_FORM),
    Case("GET", "/animation/reunions/{meeting_id:int}", (303, 404, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/apercu", (303, 404, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/dupliquer", (303, 404, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/modifier", (303, 404, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/modifier", (401, 404, 401, 303),
         form=MEETING_FORM),
    Case("POST", "/animation/reunions/{meeting_id:int}/publier", (401, 404, 401, 303)),
    Case("GET", "/animation/reunions/{meeting_id:int}/annuler", (303, 404, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/annuler", (401, 404, 401, 303),
         form={"reason": "Salle indisponible."}),
    Case("GET", "/animation/reunions/{meeting_id:int}/supprimer", (303, 404, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/supprimer", (401, 404, 401, 303)),
    # A meeting's registrants: its council's (another council's published meeting: 403)
    Case("GET", "/animation/reunions/{meeting_id:int}/inscriptions", (303, 403, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/inscriptions.csv", (303, 403, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/inscriptions/sur-place",
         (401, 403, 401, 303), form={"name": "Venue sur place", "attending_as": "resident"}),
    Case("POST", "/animation/reunions/{meeting_id:int}/inscriptions/presences",
         (401, 403, 401, 303),
         form={"listed": "{registration_id}", "present": "{registration_id}"}),
    Case("GET", "/animation/reunions/{meeting_id:int}/inscriptions/{registration_id:int}/annuler",
         (303, 403, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/inscriptions/{registration_id:int}/annuler",
         (401, 403, 401, 303)),
    Case("GET",
         "/animation/reunions/{meeting_id:int}/inscriptions/{registration_id:int}/indesirable",
         (303, 403, 303, 200)),
    Case("POST",
         "/animation/reunions/{meeting_id:int}/inscriptions/{registration_id:int}/indesirable",
         (401, 403, 401, 303)),
    Case("GET", "/animation/reunions/{meeting_id:int}/emargement", (303, 403, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/emargement.pdf", (303, 403, 303, 200)),
    Case("GET", "/animation/reunions/{meeting_id:int}/message", (303, 403, 303, 200)),
    Case("POST", "/animation/reunions/{meeting_id:int}/message", (401, 403, 401, 303),
         form={"form_key": "cle-de-formulaire-des-permissions", "subject": "Rappel",
               "text": "À jeudi !"}),
    # Proposals: a council's own (another council's: 403). The proposal acted on is pending:
    # the answer and the agenda, for published ones only, answer 409 to the admin.
    Case("GET", "/animation/propositions", (303, 200, 303, 200)),
    Case("GET", "/animation/propositions/saisie", (303, 200, 303, 200)),
    Case("POST", "/animation/propositions/saisie", (401, 403, 401, 303),
         form={"form_key": "permissions", "meeting": "{meeting_id}", "rows": "1",
               "title-1": "Un banc", "theme-1": "autre"}),
    Case("GET", "/animation/propositions/conseils/{council_id:int}/export.csv",
         (303, 403, 303, 200)),
    Case("GET", "/animation/propositions/{proposal_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/propositions/{proposal_id:int}/publier", (401, 403, 401, 303)),
    Case("POST", "/animation/propositions/{proposal_id:int}/refuser", (401, 403, 401, 303),
         form={"reason": "Hors du champ du conseil."}),
    Case("POST", "/animation/propositions/{proposal_id:int}/statut", (401, 403, 401, 303),
         form={"status": "published"}),
    Case("POST", "/animation/propositions/{proposal_id:int}/reponse", (401, 403, 401, 409),
         form={"answer": "Oui.", "answer_role": "Le conseil", "publish": "1"}),
    Case("POST", "/animation/propositions/{proposal_id:int}/modifier", (401, 403, 401, 303),
         form={"title": "Un banc", "body": "", "theme": "autre"}),
    Case("POST", "/animation/propositions/{proposal_id:int}/fusionner", (401, 403, 401, 400),
         form={"into": "{proposal_id}"}),
    Case("POST", "/animation/propositions/{proposal_id:int}/ordre-du-jour", (401, 403, 401, 409),
         form={"meeting": "{meeting_id}"}),
    Case("POST", "/animation/propositions/{proposal_id:int}/ordre-du-jour/{meeting_id:int}/retirer",
         (401, 403, 401, 303)),
    # Passwords: the forgotten-password pages are open to all; a link is its own key
    Case("GET", "/animation/mot-de-passe-oublie", (200, 200, 200, 200)),
    Case("POST", "/animation/mot-de-passe-oublie", (303, 303, 303, 303),
         form={"email": "personne@example.org"}),
    Case("GET", "/animation/mot-de-passe-oublie/envoye", (200, 200, 200, 200)),
    Case("GET", "/animation/mot-de-passe/{token:str}", (404, 404, 404, 404)),
    Case("POST", "/animation/mot-de-passe/{token:str}", (404, 404, 404, 404)),
    Case("GET", "/animation/mot-de-passe-enregistre", (200, 200, 200, 200)),
    # Mon compte: one's own account only (another's token is not found)
    Case("GET", "/animation/mon-compte", (303, 200, 303, 200)),
    Case("POST", "/animation/mon-compte/mot-de-passe", (401, 400, 401, 400)),
    Case("POST", "/animation/mon-compte/jetons", (401, 200, 401, 200),
         form={"label": "Script", "days": "7"}),
    Case("POST", "/animation/mon-compte/jetons/{token_id:int}/revoquer", (401, 404, 401, 404)),
    # Accounts and roles, the audit log: admins only
    Case("GET", "/animation/animateurs", (303, 403, 303, 200)),
    Case("POST", "/animation/animateurs", (401, 403, 401, 303),
         form={"email": "invitee@ales.fr", "name": "Invitée"}),
    Case("GET", "/animation/animateurs/{facilitator_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/animateurs/{facilitator_id:int}/roles", (401, 403, 401, 303)),
    Case("POST", "/animation/animateurs/{facilitator_id:int}/invitation", (401, 403, 401, 303)),
    Case("POST", "/animation/animateurs/{facilitator_id:int}/desactiver", (401, 403, 401, 303)),
    Case("POST", "/animation/animateurs/{facilitator_id:int}/reactiver", (401, 403, 401, 303)),
    Case("GET", "/animation/journal", (303, 403, 303, 200)),
    # Councils and quartiers: admins only
    Case("GET", "/animation/conseils", (303, 403, 303, 200)),
    Case("GET", "/animation/conseils/nouveau", (303, 403, 303, 200)),
    Case("POST", "/animation/conseils/nouveau", (401, 403, 401, 303), form={
        "name": "Conseil citoyen de test", "slug": "conseil-de-test",
        "contact_email": "test@ales.fr", "quartiers": "ales-tamaris"}),
    Case("GET", "/animation/conseils/{council_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/conseils/{council_id:int}", (401, 403, 401, 400)),
    Case("GET", "/animation/conseils/quartiers/nouveau", (303, 403, 303, 200)),
    Case("POST", "/animation/conseils/quartiers/nouveau", (401, 403, 401, 303),
         form={"name": "Quartier de test", "slug": "quartier-de-test", "commune": "Alès"}),
    Case("GET", "/animation/conseils/quartiers/{quartier_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/conseils/quartiers/{quartier_id:int}", (401, 403, 401, 400)),
    Case("POST", "/api/v1/councils", (401, 403, 401, 201), json={
        "name": "Conseil citoyen de l'API", "slug": "conseil-de-l-api",
        "contact_email": "test@ales.fr", "quartiers": ["ales-tamaris"]}),
    Case("PATCH", "/api/v1/councils/{slug:str}", (401, 403, 401, 200),
         json={"description": "Nouvelle description"}),
    Case("POST", "/api/v1/quartiers", (401, 403, 401, 201),
         json={"name": "Quartier de l'API", "slug": "quartier-de-l-api", "commune": "Alès"}),
    Case("PATCH", "/api/v1/quartiers/{slug:str}", (401, 403, 401, 200), json={"name": "Tamaris"}),
    # Subscribers: counts for the council's facilitators, addresses for admins
    Case("GET", "/animation/abonnes", (303, 200, 303, 200)),
    Case("GET", "/animation/abonnes/{council_id:int}/adresses", (303, 403, 303, 200)),
    # Failed emails: a council's own, and those of no council for admins
    Case("GET", "/animation/courriels", (303, 200, 303, 200)),
    Case("POST", "/animation/courriels/{message_id:int}/reessayer", (401, 404, 401, 303)),
    Case("POST", "/animation/courriels/conseils/{council_id:int}/reessayer",
         (401, 403, 401, 303)),
    Case("POST", "/animation/courriels/hors-conseil/reessayer", (401, 403, 401, 303)),
    # The API: facilitators' writes (bearer). Another council's published meeting is public:
    # 403 (its drafts would be 404, as if they did not exist).
    Case("POST", "/api/v1/meetings", (401, 403, 401, 201),
         json={**MEETING, "title": "Une autre réunion"}),
    Case("PATCH", "/api/v1/meetings/{meeting_id:int}", (401, 403, 401, 200),
         json={"title": "Nouveau titre"}),
    Case("POST", "/api/v1/meetings/{meeting_id:int}/publish", (401, 403, 401, 200)),
    Case("POST", "/api/v1/meetings/{meeting_id:int}/cancel", (401, 403, 401, 200)),
    Case("DELETE", "/api/v1/meetings/{meeting_id:int}", (401, 403, 401, 204)),
    Case("GET", "/api/v1/meetings/{meeting_id:int}/registrations", (401, 403, 401, 200)),
    Case("GET", "/api/v1/meetings/{meeting_id:int}/registrations.csv", (401, 403, 401, 200)),
    Case("POST", "/api/v1/registrations/{registration_id:int}/attendance",
         (401, 403, 401, 200), json={"attended": True}),
    Case("POST", "/api/v1/registrations/{registration_id:int}/cancel", (401, 403, 401, 200)),
    Case("DELETE", "/api/v1/registrations/{registration_id:int}", (401, 403, 401, 204)),
    Case("GET", "/api/v1/outbox", (401, 200, 401, 200)),
    Case("POST", "/api/v1/outbox/{message_id:int}/retry", (401, 404, 401, 200)),
    Case("DELETE", "/api/v1/auth/token", (401, 204, 401, 204), ends_session=True),
    # The API: proposals, as their council's facilitators handle them (the one acted on is
    # pending: the answer and the agenda, for published ones only, answer 409 to the admin;
    # a merge into an unknown proposal 404)
    Case("GET", "/api/v1/councils/{slug:str}/proposals/all", (401, 403, 401, 200)),
    Case("GET", "/api/v1/councils/{slug:str}/proposals.csv", (401, 403, 401, 200)),
    Case("GET", "/api/v1/proposals/{proposal_id:int}/moderation", (401, 403, 401, 200)),
    Case("PATCH", "/api/v1/proposals/{proposal_id:int}/moderation", (401, 403, 401, 200),
         json={"title": "Un banc"}),
    Case("POST", "/api/v1/proposals/{proposal_id:int}/publish", (401, 403, 401, 200)),
    Case("POST", "/api/v1/proposals/{proposal_id:int}/reject", (401, 403, 401, 200),
         json={"reason": "Hors du champ du conseil."}),
    Case("POST", "/api/v1/proposals/{proposal_id:int}/status", (401, 403, 401, 200),
         json={"status": "published"}),
    Case("PUT", "/api/v1/proposals/{proposal_id:int}/answer", (401, 403, 401, 409),
         json={"answer": "Oui.", "answer_role": "Le conseil", "publish": True}),
    Case("POST", "/api/v1/proposals/{proposal_id:int}/merge", (401, 403, 401, 404),
         json={"into": 987_654}),
    Case("PUT", "/api/v1/meetings/{meeting_id:int}/agenda/{proposal_id:int}",
         (401, 403, 401, 409)),
    Case("DELETE", "/api/v1/meetings/{meeting_id:int}/agenda/{proposal_id:int}",
         (401, 403, 401, 204)),
    Case("POST", "/api/v1/meetings/{meeting_id:int}/collected-proposals", (401, 403, 401, 201),
         json={"proposals": [{"title": "Un banc", "theme": "autre"}]}),
    # Documents: a council's by its facilitators (another council's: 403), shared: admins
    Case("GET", "/animation/documents", (303, 200, 303, 200)),
    Case("GET", "/animation/documents/nouveau", (303, 200, 303, 200)),
    Case("POST", "/animation/documents/nouveau", (401, 403, 401, 303), form=DOCUMENT_FORM,
         upload=True),
    Case("GET", "/animation/documents/{document_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/documents/{document_id:int}", (401, 403, 401, 303),
         form=DOCUMENT_FORM, upload=True),
    Case("GET", "/animation/documents/{document_id:int}/supprimer", (303, 403, 303, 200)),
    Case("POST", "/animation/documents/{document_id:int}/supprimer", (401, 403, 401, 303)),
    Case("POST", "/api/v1/documents", (401, 403, 401, 201), form=DOCUMENT_FORM, upload=True),
    Case("DELETE", "/api/v1/documents/{document_id:int}", (401, 403, 401, 204)),
    # Minutes: a council's by its facilitators (another council's: 403)
    Case("GET", "/animation/comptes-rendus", (303, 200, 303, 200)),
    Case("GET", "/animation/comptes-rendus/nouveau", (303, 200, 303, 200)),
    Case("POST", "/animation/comptes-rendus/nouveau", (401, 403, 401, 303),
         form={"month": "2025-03", "council": "ales-tamaris", "form_key": "permissions"}),
    Case("GET", "/animation/comptes-rendus/{minutes_id:int}", (303, 403, 303, 200)),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}", (401, 403, 401, 303),
         form={"title": "Compte rendu corrigé", "summary": "Résumé"}),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/pdf", (401, 403, 401, 303),
         upload=True),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/propositions", (401, 403, 401, 303),
         form={"discussed": "{published_proposal_id}"}),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/publier", (401, 403, 401, 303),
         ids={"minutes_id": "draft_minutes_id"}),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/retirer", (401, 403, 401, 303)),
    Case("GET", "/animation/comptes-rendus/{minutes_id:int}/mise-a-jour", (303, 403, 303, 200)),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/mise-a-jour", (401, 403, 401, 303),
         form={"expected": "1"}),
    Case("GET", "/animation/comptes-rendus/{minutes_id:int}/supprimer", (303, 403, 303, 200),
         ids={"minutes_id": "draft_minutes_id"}),
    Case("POST", "/animation/comptes-rendus/{minutes_id:int}/supprimer", (401, 403, 401, 303),
         ids={"minutes_id": "draft_minutes_id"}),
    Case("POST", "/api/v1/minutes", (401, 403, 401, 201),
         json={"month": "2025-04", "council": "ales-tamaris"}),
    Case("GET", "/api/v1/minutes/{minutes_id:int}/editing", (401, 403, 401, 200)),
    Case("PATCH", "/api/v1/minutes/{minutes_id:int}", (401, 403, 401, 200),
         json={"title": "Compte rendu corrigé", "summary": "Résumé"}),
    Case("POST", "/api/v1/minutes/{minutes_id:int}/file", (401, 403, 401, 200), upload=True),
    Case("PUT", "/api/v1/minutes/{minutes_id:int}/proposals", (401, 403, 401, 200), json=[]),
    Case("POST", "/api/v1/minutes/{minutes_id:int}/publish", (401, 403, 401, 200),
         ids={"minutes_id": "draft_minutes_id"}),
    Case("POST", "/api/v1/minutes/{minutes_id:int}/update-email", (401, 403, 401, 200),
         json={}),
    Case("DELETE", "/api/v1/minutes/{minutes_id:int}", (401, 403, 401, 204),
         ids={"minutes_id": "draft_minutes_id"}),
    # The API: public writes, the same for everyone
    Case("POST", "/api/v1/auth/token", (401, 401, 401, 401),
         json={"email": "x@example.org", "password": "wrong password!"}),
    Case("POST", "/api/v1/meetings/{meeting_id:int}/registrations", (202, 202, 202, 202),
         json=person("perm")),
    Case("POST", "/api/v1/councils/{slug:str}/subscriptions", (202, 202, 202, 202),
         json={"email": "abonne@example.org"}),
    Case("POST", "/api/v1/councils/{slug:str}/proposals", (202, 202, 202, 202),
         json={"title": "Des bancs", "body": "Pour s'asseoir.", "theme": "autre",
               "email": "habitante@example.org"}),
    Case("POST", "/api/v1/proposals/{proposal_id:int}/supports", (202, 202, 202, 202),
         json={"email": "soutien@example.org"}, ids={"proposal_id": "published_proposal_id"}),
]  # fmt: skip


def _in_scope(method: str, path: str, handler: Any) -> bool:
    if path.startswith("/animation"):
        return True
    if not path.startswith("/api/"):
        return False
    return method in UNSAFE or bool(handler.resolve_security())


def _declared(app: Litestar) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                if _in_scope(method, route.path, handler):
                    found.add((method, route.path))
    return found


def test_every_route_has_a_row() -> None:
    declared = _declared(create_app())
    listed = {(case.method, case.path) for case in ROUTES}
    assert not declared - listed, f"routes without permissions written down: {declared - listed}"
    assert not listed - declared, f"rows that match no route: {listed - declared}"


@dataclass
class World:
    owner: dict[str, str]  # the Tamaris facilitator's bearer header
    owner_id: int
    admin_id: int
    clients: dict[str, httpx.AsyncClient]
    tokens: dict[str, dict[str, str]]


@pytest.fixture
async def world(app: Litestar, demo: None) -> AsyncIterator[World]:
    """The four visitors, signed in once (argon2 is slow on purpose); each case then gets
    fresh objects to act on."""
    transport = httpx.ASGITransport(app=app)
    clients = {
        who: httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
        for who in VISITORS
    }
    try:
        owner = await make_facilitator("anim.tamaris@ales.fr", "ales-tamaris")
        tokens = {
            ANONYMOUS: {},
            OTHER: await make_facilitator("anim.rivedroite@ales.fr", "ales-rive-droite"),
            DEACTIVATED: await make_facilitator("ancien@ales.fr", "ales-tamaris"),
            ADMIN: await make_facilitator("admin@ales.fr", admin=True),
        }
        await signed_in(clients[OTHER], "anim.rivedroite@ales.fr")
        await signed_in(clients[DEACTIVATED], "ancien@ales.fr")
        await signed_in(clients[ADMIN], "admin@ales.fr")
        await csrf_token(clients[ANONYMOUS])
        await Facilitator.update({Facilitator.active: False}).where(
            Facilitator.email == "ancien@ales.fr"
        )
        ids = {
            row["email"]: row["id"]
            for row in await Facilitator.select(Facilitator.id, Facilitator.email)
        }
        yield World(owner, ids["anim.tamaris@ales.fr"], ids["admin@ales.fr"], clients, tokens)
    finally:
        for client in clients.values():
            await client.aclose()


async def _objects(world: World, n: int) -> dict[str, Any]:
    """Tamaris objects for one case: a published meeting with one registration."""
    client = world.clients[ANONYMOUS]
    meeting = await published_meeting(client, world.owner, title=f"Réunion n° {n}")
    signup = await client.post(f"/api/v1/meetings/{meeting['id']}/registrations", json=person(n))
    assert signup.status_code == 202
    registration = (
        await Registration.select(Registration.id)
        .where(Registration.meeting == meeting["id"])
        .first()
    )
    council = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    quartier = await Quartier.select(Quartier.id).where(Quartier.slug == "ales-tamaris").first()
    failed = []
    for council_id in (council["id"], None):
        failed.append(
            (
                await OutboxMessage.insert(
                    OutboxMessage(
                        idempotency_key=f"permissions:{n}:{council_id}",
                        kind="registration_confirmed",
                        recipient="habitante@example.org",
                        subject="Échec",
                        message_id=f"<permissions.{n}.{council_id}@example.org>",
                        council_id=council_id,
                        status="failed",
                        last_error="550 boîte inconnue",
                    )
                ).returning(OutboxMessage.id)
            )[0]["id"]
        )
    admin_view = (await facilitator_view(world.admin_id))[0]
    invited, _ = await management.invite(
        admin_view, email=f"invitee.{n}@ales.fr", name="Invitée", councils=[], is_admin=False
    )
    token = await ApiToken.select(ApiToken.id).where(ApiToken.facilitator == world.owner_id).first()
    proposal = await Proposal.insert(
        Proposal(council=council["id"], title=f"Proposition n° {n}", theme="autre",
                 email="autrice@example.org", status="pending")
    ).returning(Proposal.id)  # fmt: skip
    published = await Proposal.insert(
        Proposal(council=council["id"], title=f"Proposition publiée n° {n}", theme="autre",
                 status="published")
    ).returning(Proposal.id)  # fmt: skip
    document = await Document.insert(
        Document(
            council=council["id"],
            title=f"Document n° {n}",
            category="autre",
            file=await keep_bytes(demo_pdf([f"Document {n}"])),
            filename="d.pdf",
            issued_on=date(2026, 1, 15),
        )
    ).returning(Document.id)
    minutes = {}
    for status, month in (("published", date(2026, 1, 1)), ("draft", date(2026, 2, 1))):
        minutes[status] = (
            await Minutes.insert(
                Minutes(council=council["id"], month=month, title=f"Compte rendu n° {n}",
                        summary="Résumé", status=status, announced_at=None)
            ).returning(Minutes.id)
        )[0]["id"]  # fmt: skip
    return {
        "minutes_id": minutes["published"],
        "draft_minutes_id": minutes["draft"],
        "proposal_id": proposal[0]["id"],
        "published_proposal_id": published[0]["id"],
        "document_id": document[0]["id"],
        "facilitator_id": invited.id,
        "token_id": token["id"],
        "token": "x" * 43,
        "meeting_id": meeting["id"],
        "registration_id": registration["id"],
        "council_id": council["id"],
        "quartier_id": quartier["id"],
        "slug": "ales-tamaris",
        "message_id": failed[0],
    }


def _url(path: str, ids: dict[str, Any]) -> str:
    url = path
    for name, value in ids.items():
        for kind in ("int", "str"):
            url = url.replace(f"{{{name}:{kind}}}", str(value))
    assert "{" not in url, f"no value for a parameter of {path}"
    return url


async def _visit(case: Case, who: str, world: World, ids: dict[str, Any]) -> httpx.Response:
    client = world.clients[who]
    ids = {**ids, **{name: ids[other] for name, other in case.ids.items()}}
    url = _url(case.path, ids)
    upload = {"file": ("fiche.pdf", demo_pdf(["Fiche"]), "application/pdf")}
    if url.startswith("/api/"):
        if case.upload:
            return await client.request(
                case.method, url, data=case.form, files=upload, headers=world.tokens[who] or None
            )
        return await client.request(
            case.method, url, json=case.json, headers=world.tokens[who] or None
        )
    if case.method == "GET":
        return await client.get(url)
    token = client.cookies.get("csrf") or ""
    form = {name: value.format(**ids) for name, value in case.form.items()}
    return await client.request(
        case.method, url, data={"_csrf_token": token, **form}, files=upload if case.upload else None
    )


async def test_who_may_use_each_route(world: World) -> None:
    wrong = []
    cases = sorted(ROUTES, key=lambda case: case.ends_session)
    for n, case in enumerate(cases):
        ids = await _objects(world, n)
        found = {}
        for who in VISITORS:  # the admin last: their request may change or delete the object
            answer = await _visit(case, who, world, ids)
            found[who] = answer.status_code
            if (
                case.method == "GET"
                and answer.status_code == 303
                and who in (ANONYMOUS, DEACTIVATED)
            ):
                assert answer.headers["location"].startswith("/animation/connexion?suite=")
        await counters().clear()  # the wrong-password rows must not throttle each other
        expected = dict(zip(VISITORS, case.statuses, strict=True))
        if found != expected:
            wrong.append(f"{case.id}: expected {expected}, got {found}")
    assert not wrong, "\n".join(wrong)

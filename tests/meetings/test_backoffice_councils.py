"""Councils and quartiers in the back-office (/animation/conseils) and on the API (admins):
create, edit, bad input refused beside its field, slugs fixed once public, caches dropped at
once (here, and in other processes through the change log), an audit line per change."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conseils import changes
from conseils.db import write_transaction
from conseils.tables import AuditEntry, MeetingChange
from meetings.tables import Council, CouncilQuartier, Meeting, Quartier
from tests.support.backoffice_support import post_form, signed_in
from tests.support.facilitator_support import make_facilitator

ADMIN = "admin@ales.fr"
TAMARIS = "anim.tamaris@ales.fr"
NEW = {
    "name": "Conseil citoyen de Saint-Martin",
    "slug": "saint-martin",
    "contact_email": "Conseil.StMartin@Ville-Ales.fr",
    "description": "Habitants du quartier.",
    "quartiers": ["ales-moulinet", "ales-cevennes"],
}


@pytest.fixture
async def admin(client: httpx.AsyncClient, admin_auth: dict[str, str]) -> httpx.AsyncClient:
    await signed_in(client, ADMIN)
    return client


async def council(slug: str) -> dict:
    row = await Council.select().where(Council.slug == slug).first()
    assert row is not None, slug
    return row


async def quartier_slugs(council_id: int) -> set[str]:
    rows = await CouncilQuartier.select(CouncilQuartier.quartier.slug.as_alias("slug")).where(
        CouncilQuartier.council == council_id
    )
    return {r["slug"] for r in rows}


async def audit_lines() -> list[tuple[str, str, int | None, str]]:
    rows = await AuditEntry.select().order_by(AuditEntry.id)
    return [(r["action"], r["object_kind"], r["object_id"], r["detail"]) for r in rows]


def unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "")


async def snapshot() -> list:
    """Everything an admin's edit could change."""
    return [
        await Council.select().order_by(Council.id),
        await CouncilQuartier.select().order_by(CouncilQuartier.id),
        await Quartier.select().order_by(Quartier.id),
        await AuditEntry.count(),
    ]


# ---------------------------------------------------------------- who


async def test_a_facilitator_gets_403_on_every_admin_page_and_post(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await signed_in(client, TAMARIS)
    tamaris = await council("ales-tamaris")
    quartier = await Quartier.select().first()
    before = await snapshot()
    pages = [
        "/animation/conseils",
        "/animation/conseils/nouveau",
        f"/animation/conseils/{tamaris['id']}",
        "/animation/conseils/quartiers/nouveau",
        f"/animation/conseils/quartiers/{quartier['id']}",
    ]
    for url in pages:
        answer = await client.get(url)
        assert answer.status_code == 403, url
        assert "Réservé aux administrateurs" in answer.text
        if url == "/animation/conseils":
            continue  # a page, no form
        posted = await post_form(client, url, {**NEW, "name": "Piraté", "commune": "Alès"})
        assert posted.status_code == 403, url
    assert await snapshot() == before
    dashboard = await client.get("/animation/")
    assert 'href="/animation/conseils"' not in dashboard.text  # no menu entry either

    # The API: the same rule.
    api = [
        client.post("/api/v1/councils", json=NEW, headers=tamaris_auth),
        client.patch("/api/v1/councils/ales-tamaris", json={"name": "X"}, headers=tamaris_auth),
        client.post(
            "/api/v1/quartiers",
            json={"name": "X", "slug": "x", "commune": "Alès"},
            headers=tamaris_auth,
        ),
        client.patch("/api/v1/quartiers/ales-tamaris", json={"name": "X"}, headers=tamaris_auth),
    ]
    for call in api:
        answer = await call
        assert answer.status_code == 403
        assert answer.json()["code"] == "admin_only"
    assert (await client.post("/api/v1/councils", json=NEW)).status_code == 401
    assert await snapshot() == before


async def test_an_anonymous_visitor_is_sent_to_sign_in(
    client: httpx.AsyncClient, demo: None
) -> None:
    answer = await client.get("/animation/conseils")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/animation/connexion?suite=")


# ---------------------------------------------------------------- councils


async def test_admin_lists_councils_with_their_quartiers(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/animation/conseils")
    assert page.status_code == 200
    assert "Conseil citoyen Alès « Couronne Nord »" in page.text
    assert "Cévennes (Alès), Moulinet (Alès), Pierre-Curie (Alès)" in page.text
    assert "Toute l'agglomération" in page.text
    assert '<th scope="col">Quartiers</th>' in page.text
    dashboard = await admin.get("/animation/")
    assert 'href="/animation/conseils"' in dashboard.text


async def test_admin_creates_a_council(admin: httpx.AsyncClient) -> None:
    form = await admin.get("/animation/conseils/nouveau")
    assert form.status_code == 200
    assert 'name="quartiers" type="checkbox" value="ales-tamaris"' in form.text

    answer = await post_form(admin, "/animation/conseils/nouveau", NEW)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/animation/conseils?fait=conseil"
    row = await council("saint-martin")
    assert row["name"] == NEW["name"]
    assert row["contact_email"] == "conseil.stmartin@ville-ales.fr"
    assert row["description"] == "Habitants du quartier."
    assert row["agglomeration_wide"] is False
    assert await quartier_slugs(row["id"]) == {"ales-moulinet", "ales-cevennes"}
    assert await audit_lines() == [("council.create", "council", row["id"], "")]
    entry = await AuditEntry.select().first()
    assert entry["council_id"] == row["id"]

    listed = await admin.get(answer.headers["location"])
    assert "Le conseil est enregistré." in listed.text
    public = await admin.get("/conseils/saint-martin")
    assert public.status_code == 200
    assert "Conseil citoyen de Saint-Martin" in public.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "Saint-Martin", "lettres minuscules sans accent"),
        ("slug", "saint_martin", "lettres minuscules sans accent"),
        ("slug", "saint martin", "lettres minuscules sans accent"),
        ("slug", "-saint-martin", "lettres minuscules sans accent"),
        ("slug", "saint--martin", "lettres minuscules sans accent"),
        ("slug", "alès", "lettres minuscules sans accent"),
        ("slug", "", "ne doit pas être vide"),
        ("slug", "a" * 81, "Ne doit pas dépasser 80 caractères"),
        ("slug", "ales-tamaris", "Est déjà celle d&#39;un autre conseil"),
        ("contact_email", "pas-une-adresse", "Adresse électronique invalide"),
        ("contact_email", "a@b", "Adresse électronique invalide"),
        ("name", "  ", "Ne doit pas être vide"),
        ("quartiers", [], "cochez au moins un quartier"),
        ("quartiers", ["inconnu"], "quartier inconnu : inconnu"),
    ],
)
async def test_bad_input_is_refused_beside_its_field_and_changes_nothing(
    admin: httpx.AsyncClient, field: str, value: str | list[str], message: str
) -> None:
    before = await snapshot()
    answer = await post_form(admin, "/animation/conseils/nouveau", {**NEW, field: value})
    assert answer.status_code == 400
    html = answer.text
    assert f'<p id="{field}-erreur" class="errors">' in html
    assert message.lower() in html.lower()
    if field != "quartiers":
        assert 'aria-invalid="true"' in html and f'aria-describedby="{field}-erreur' in html
    assert await snapshot() == before


async def test_an_agglomeration_council_takes_no_quartier(admin: httpx.AsyncClient) -> None:
    before = await snapshot()
    answer = await post_form(
        admin, "/animation/conseils/nouveau", {**NEW, "agglomeration_wide": "1"}
    )
    assert answer.status_code == 400
    assert "ne se rattache à aucun quartier" in answer.text
    assert await snapshot() == before
    wide = {**NEW, "agglomeration_wide": "1", "quartiers": []}
    assert (await post_form(admin, "/animation/conseils/nouveau", wide)).status_code == 303
    row = await council("saint-martin")
    assert row["agglomeration_wide"] is True
    assert await quartier_slugs(row["id"]) == set()


async def test_edit_with_a_duplicate_slug_or_bad_email_changes_nothing(
    admin: httpx.AsyncClient,
) -> None:
    assert (await post_form(admin, "/animation/conseils/nouveau", NEW)).status_code == 303
    row = await council("saint-martin")
    url = f"/animation/conseils/{row['id']}"
    form = await admin.get(url)
    assert form.status_code == 200
    assert 'value="saint-martin"' in form.text and "readonly" not in form.text
    before = await snapshot()
    for change, field in (
        ({"slug": "ales-agglo"}, "slug"),
        ({"contact_email": "contact@"}, "contact_email"),
        ({"slug": "Saint Martin"}, "slug"),
    ):
        answer = await post_form(admin, url, {**NEW, **change})
        assert answer.status_code == 400, change
        assert f'id="{field}-erreur"' in answer.text
    assert await snapshot() == before
    assert (await admin.get("/animation/conseils/999999")).status_code == 404
    assert (await post_form(admin, "/animation/conseils/999999", NEW)).status_code == 404


async def test_a_council_without_public_meetings_may_change_its_slug(
    admin: httpx.AsyncClient,
) -> None:
    assert (await post_form(admin, "/animation/conseils/nouveau", NEW)).status_code == 303
    row = await council("saint-martin")
    answer = await post_form(
        admin,
        f"/animation/conseils/{row['id']}",
        {**NEW, "slug": "ales-saint-martin", "quartiers": ["ales-moulinet"]},
    )
    assert answer.status_code == 303, answer.text
    assert (await admin.get("/conseils/saint-martin")).status_code == 404
    assert (await admin.get("/conseils/ales-saint-martin")).status_code == 200
    assert await quartier_slugs(row["id"]) == {"ales-moulinet"}
    assert (await audit_lines())[-1] == (
        "council.update", "council", row["id"], "champs : slug, quartiers",
    )  # fmt: skip


async def test_a_council_that_published_keeps_its_slug(admin: httpx.AsyncClient) -> None:
    tamaris = await council("ales-tamaris")
    assert await Meeting.exists().where(
        (Meeting.council == tamaris["id"]) & (Meeting.status == "published")
    )
    form = await admin.get(f"/animation/conseils/{tamaris['id']}")
    assert "readonly" in form.text and "il ne peut plus changer" in form.text
    before = await snapshot()
    answer = await post_form(
        admin,
        f"/animation/conseils/{tamaris['id']}",
        {
            "name": "Tamaris",
            "slug": "tamaris",
            "contact_email": tamaris["contact_email"],
            "quartiers": ["ales-tamaris"],
        },
    )
    assert answer.status_code == 400
    assert "Ne peut plus changer : ce conseil a déjà publié des réunions" in answer.text
    assert await snapshot() == before


async def test_a_rename_shows_at_once_on_pages_and_feeds(admin: httpx.AsyncClient) -> None:
    tamaris = await council("ales-tamaris")
    meeting = (
        await Meeting.select()
        .where((Meeting.council == tamaris["id"]) & (Meeting.status == "published"))
        .first()
    )
    urls = [
        "/conseils/ales-tamaris",
        f"/reunions/{meeting['id']}",
        "/conseils/ales-tamaris/calendrier.ics",
        "/calendrier.ics?quartier=ales-tamaris",
        "/calendrier.ics",
        f"/reunions/{meeting['id']}/calendrier.ics",
    ]
    old = "Conseil citoyen Alès Tamaris"
    first = {}
    for url in urls:  # every cache warm
        answer = await admin.get(url)
        assert answer.status_code == 200, url
        assert old in answer.text, url
        first[url] = answer
    answer = await post_form(
        admin,
        f"/animation/conseils/{tamaris['id']}",
        {
            "name": "Conseil citoyen des Tamaris",
            "slug": "ales-tamaris",
            "contact_email": "tamaris@ville-ales.fr",
            "description": tamaris["description"],
            "quartiers": ["ales-tamaris"],
        },
    )
    assert answer.status_code == 303, answer.text
    for url in urls:
        answer = await admin.get(url)
        assert "Conseil citoyen des Tamaris" in answer.text, url
        # Meeting titles say the old name: only those still do.
        assert answer.text.count(old) < first[url].text.count(old), url
        if url.endswith(".ics"):
            assert "Organisé par : Conseil citoyen des Tamaris" in unfolded(answer.text), url
            assert "mailto:tamaris@ville-ales.fr" in answer.text, url
            assert answer.headers["etag"] != first[url].headers["etag"]
            assert answer.headers["last-modified"] != first[url].headers["last-modified"]
    feed = unfolded((await admin.get("/conseils/ales-tamaris/calendrier.ics")).text)
    assert "\r\nX-WR-CALNAME:Conseil citoyen des Tamaris\r\n" in feed  # the feed's own name
    assert (await audit_lines())[-1] == (
        "council.update", "council", tamaris["id"], "champs : name, contact_email",
    )  # fmt: skip
    # The other processes read it in the change log: a change to the council itself.
    logged = await MeetingChange.select().order_by(MeetingChange.id, ascending=False).first()
    assert (logged["meeting_id"], logged["council_id"]) == (0, tamaris["id"])


async def test_another_process_learns_of_a_rename_through_the_change_log(
    client: httpx.AsyncClient, demo: None
) -> None:
    """As if another process had renamed the council: its change reaches this one only
    through the log (no on-commit dispatch here), and every cache here forgets."""
    await changes.refresh()  # this process has read the log up to here
    feeds = ["/conseils/ales-tamaris/calendrier.ics", "/calendrier.ics?quartier=ales-tamaris"]
    before = {url: (await client.get(url)).text for url in feeds}
    tamaris = await council("ales-tamaris")
    async with write_transaction():
        await Council.update({Council.name: "Conseil des Tamaris"}).where(
            Council.id == tamaris["id"]
        )
        await MeetingChange.insert(
            MeetingChange(meeting_id=changes.COUNCIL_ITSELF, council_id=tamaris["id"])
        )
    await asyncio.sleep(changes.LOOK_EVERY_S)  # another process's commit is seen after this
    for url in feeds:
        text = unfolded((await client.get(url)).text)
        assert "Organisé par : Conseil des Tamaris" in text, url
        assert "Organisé par : Conseil citoyen Alès Tamaris" in unfolded(before[url]), url
        assert "Organisé par : Conseil citoyen Alès Tamaris" not in text, url
    council_feed = unfolded((await client.get(feeds[0])).text)
    assert "\r\nX-WR-CALNAME:Conseil des Tamaris\r\n" in council_feed


async def test_the_edit_form_shows_what_was_typed_after_an_error(
    admin: httpx.AsyncClient,
) -> None:
    answer = await post_form(
        admin, "/animation/conseils/nouveau", {**NEW, "contact_email": "x", "name": "Mon <b>nom"}
    )
    assert answer.status_code == 400
    assert 'value="Mon &lt;b&gt;nom"' in answer.text
    assert 'value="ales-moulinet" checked' in answer.text
    assert '<a href="#contact_email">' in answer.text  # the summary leads to the field


# ---------------------------------------------------------------- quartiers


async def test_admin_creates_and_renames_a_quartier(admin: httpx.AsyncClient) -> None:
    new = {"name": "Les Prés-Rasclaux", "slug": "ales-pres-rasclaux", "commune": "Alès"}
    for bad, field in (
        ({"slug": "Prés"}, "slug"),
        ({"slug": "ales-tamaris"}, "slug"),
        ({"commune": ""}, "commune"),
        ({"name": "x" * 121}, "name"),
    ):
        before = await snapshot()
        answer = await post_form(admin, "/animation/conseils/quartiers/nouveau", {**new, **bad})
        assert answer.status_code == 400, bad
        assert f'id="{field}-erreur"' in answer.text
        assert await snapshot() == before
    answer = await post_form(admin, "/animation/conseils/quartiers/nouveau", new)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/animation/conseils?fait=quartier"
    row = await Quartier.select().where(Quartier.slug == "ales-pres-rasclaux").first()
    assert (row["name"], row["commune"]) == ("Les Prés-Rasclaux", "Alès")

    # Its feed holds the agglomeration's meetings: its slug is fixed already.
    form = await admin.get(f"/animation/conseils/quartiers/{row['id']}")
    assert "readonly" in form.text
    url = f"/animation/conseils/quartiers/{row['id']}"
    refused = await post_form(admin, url, {**new, "slug": "pres-rasclaux"})
    assert refused.status_code == 400
    assert "ne peut plus changer" in refused.text
    renamed = await post_form(admin, url, {**new, "name": "Prés-Rasclaux"})
    assert renamed.status_code == 303
    feed = await admin.get("/calendrier.ics?quartier=ales-pres-rasclaux")
    assert "Prés-Rasclaux (Alès)" in feed.text
    assert [line[:2] for line in await audit_lines()] == [
        ("quartier.create", "quartier"),
        ("quartier.update", "quartier"),
    ]


async def test_a_quartier_rename_shows_at_once_in_its_feed_and_council_page(
    admin: httpx.AsyncClient,
) -> None:
    feed_url = "/calendrier.ics?quartier=ales-tamaris"
    assert "Tamaris (Alès)" in (await admin.get(feed_url)).text
    row = await Quartier.select().where(Quartier.slug == "ales-tamaris").first()
    answer = await post_form(
        admin,
        f"/animation/conseils/quartiers/{row['id']}",
        {"name": "Les Tamaris", "slug": "ales-tamaris", "commune": "Alès"},
    )
    assert answer.status_code == 303
    assert "Les Tamaris (Alès)" in (await admin.get(feed_url)).text
    assert "Les Tamaris" in (await admin.get("/conseils/ales-tamaris")).text


# ---------------------------------------------------------------- API


async def test_admin_creates_and_edits_councils_and_quartiers_on_the_api(
    client: httpx.AsyncClient, admin_auth: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/quartiers",
        json={"name": "Les Prés-Rasclaux", "slug": "ales-pres-rasclaux", "commune": "Alès"},
        headers=admin_auth,
    )
    assert created.status_code == 201, created.text
    answer = await client.post(
        "/api/v1/councils", json={**NEW, "quartiers": ["ales-pres-rasclaux"]}, headers=admin_auth
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["slug"] == "saint-martin"
    assert body["contact_email"] == "conseil.stmartin@ville-ales.fr"
    assert [q["slug"] for q in body["quartiers"]] == ["ales-pres-rasclaux"]
    assert body["url"] == "http://testserver.local/conseils/saint-martin"

    bad = await client.post(
        "/api/v1/councils", json={**NEW, "slug": "Saint Martin"}, headers=admin_auth
    )
    assert bad.status_code == 400
    assert bad.json()["extra"][0]["key"] == "slug"
    duplicate = await client.patch(
        "/api/v1/councils/saint-martin", json={"slug": "ales-tamaris"}, headers=admin_auth
    )
    assert duplicate.status_code == 400
    fixed = await client.patch(
        "/api/v1/councils/ales-tamaris", json={"slug": "tamaris"}, headers=admin_auth
    )
    assert fixed.status_code == 400
    assert "publié" in fixed.json()["extra"][0]["message"]
    patched = await client.patch(
        "/api/v1/councils/saint-martin",
        json={"name": "Saint-Martin", "slug": "ales-saint-martin"},
        headers=admin_auth,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["slug"]) == ("Saint-Martin", "ales-saint-martin")
    missing = await client.patch("/api/v1/councils/inconnu", json={"name": "X"}, headers=admin_auth)
    assert missing.status_code == 404
    unknown = await client.patch(
        "/api/v1/councils/ales-saint-martin", json={"calendar_changed_at": None}, headers=admin_auth
    )
    assert unknown.status_code == 400
    renamed = await client.patch(
        "/api/v1/quartiers/ales-pres-rasclaux", json={"name": "Prés-Rasclaux"}, headers=admin_auth
    )
    assert renamed.status_code == 200
    assert renamed.json() == {
        "slug": "ales-pres-rasclaux", "name": "Prés-Rasclaux", "commune": "Alès",
    }  # fmt: skip
    listed = (await client.get("/api/v1/quartiers")).json()
    assert {"slug": "ales-pres-rasclaux", "name": "Prés-Rasclaux", "commune": "Alès"} in listed
    assert [line[0] for line in await audit_lines()] == [
        "quartier.create", "council.create", "council.update", "quartier.update",
    ]  # fmt: skip


async def test_a_facilitator_api_token_cannot_create_a_council(
    client: httpx.AsyncClient, demo: None
) -> None:
    auth = await make_facilitator("anim@ales.fr", "ales-tamaris")
    answer = await client.post("/api/v1/councils", json=NEW, headers=auth)
    assert answer.status_code == 403
    assert not await Council.exists().where(Council.slug == "saint-martin")

"""Erasure and export of everything held about an address, across the apps: nothing of the
address is left in any table or in the maildir; an upcoming seat goes to the first person
waiting; past registrations stay as anonymous rows for the attendance figures."""

from __future__ import annotations

import json
from datetime import timedelta

from httpx import AsyncClient

from conseils.settings import get_settings
from conseils.timefmt import now_utc
from meetings.tables import Registration
from notifications.tables import OutboxMessage, Subscription
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import deliver_all, mail_settings, make_relay
from tests.support.privacy_support import ask_link, maildir_files_holding, tables_holding
from tests.support.registration_support import (
    by_status,
    meeting_row,
    outbox_rows,
    person,
    published_meeting,
    set_meeting,
    sign_up,
)

ADDRESS = "habitante.a@example.org"


async def _a_resident_everywhere(client: AsyncClient, auth: dict[str, str]) -> dict[str, int]:
    """The address holds: a seat at an upcoming meeting (someone waiting behind it), a seat at
    another council's meeting, a past meeting it attended, a subscription; its emails were
    delivered to the maildir."""
    upcoming = await published_meeting(client, auth, capacity=1)
    await sign_up(client, upcoming["id"], person("a", name="Alice Martin", phone="06 11 22 33 44"))
    await sign_up(client, upcoming["id"], person("b"))  # waiting
    other_auth = await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    elsewhere = await published_meeting(client, other_auth, council="ales-rive-droite")
    await sign_up(client, elsewhere["id"], person("a", name="Alice Martin", needs="Fauteuil"))
    past = await published_meeting(client, auth, title="Réunion passée")
    mine = await sign_up(client, past["id"], person("a", name="Alice Martin"))
    start = now_utc() - timedelta(days=3)
    await set_meeting(past["id"], starts_at=start, ends_at=start + timedelta(hours=2))
    marked = await client.post(
        f"/api/v1/registrations/{mine['id']}/attendance", json={"attended": True}, headers=auth
    )
    assert marked.status_code == 200
    subscribed = await client.post(
        "/api/v1/councils/ales-tamaris/subscriptions", json={"email": ADDRESS.upper()}
    )
    assert subscribed.status_code in (200, 202), subscribed.text
    await deliver_all(make_relay(mail_settings(maildir=get_settings().mail.maildir)))
    assert maildir_files_holding(ADDRESS)
    return {"upcoming": upcoming["id"], "elsewhere": elsewhere["id"], "past": past["id"]}


async def test_erasing_an_address_leaves_no_trace_and_moves_the_waiting_list_up(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meetings = await _a_resident_everywhere(client, tamaris_auth)
    token = await ask_link(client, ADDRESS)
    assert set(await tables_holding(ADDRESS)) == {
        "registration",
        "subscription",
        "outbox_message",
        "access_request",
    }
    confirm = await client.get(f"/mes-donnees/{token}/effacer")
    assert confirm.status_code == 200
    assert "Oui, effacer toutes mes données" in confirm.text
    erased = await client.post(f"/mes-donnees/{token}/effacer")
    assert erased.status_code == 303
    assert erased.headers["location"] == "/mes-donnees/effacees"
    assert "Vos données sont effacées" in (await client.get("/mes-donnees/effacees")).text

    assert await tables_holding(ADDRESS) == []
    assert await tables_holding("Alice Martin") == []
    assert await tables_holding("06 11 22 33 44") == []
    assert await tables_holding("Fauteuil") == []
    assert maildir_files_holding(ADDRESS) == []
    # The upcoming seat went to the first person waiting, who was told; the erased person
    # was not written to.
    found = await by_status(meetings["upcoming"])
    assert [r["email"] for r in found["confirmed"]] == ["habitante.b@example.org"]
    assert (await meeting_row(meetings["upcoming"]))["seats_taken"] == 1
    assert [r["recipient"] for r in await outbox_rows("registration_promoted")] == [
        "habitante.b@example.org"
    ]
    assert await outbox_rows("registration_cancelled") == []
    assert (await meeting_row(meetings["elsewhere"]))["seats_taken"] == 0
    # The past meeting keeps an anonymous row for its attendance figures.
    [kept] = await Registration.select().where(Registration.meeting == meetings["past"])
    assert (kept["status"], kept["attended"], kept["name"], kept["email"]) == (
        "confirmed",
        True,
        "",
        "",
    )
    assert kept["feed_token"] is None
    # The link was single use.
    dead = await client.get(f"/mes-donnees/{token}")
    assert dead.status_code == 404
    assert "Demander un nouveau lien" in dead.text
    assert (await client.post(f"/mes-donnees/{token}/effacer")).status_code == 404


async def test_the_export_lists_every_record_of_the_address(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meetings = await _a_resident_everywhere(client, tamaris_auth)
    await sign_up(client, meetings["upcoming"], person("someone-else"))
    token = await ask_link(client, ADDRESS)
    answer = await client.get(f"/mes-donnees/{token}/export.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"] == 'attachment; filename="mes-donnees.json"'
    data = json.loads(answer.content)
    assert data["email"] == ADDRESS
    registrations = data["registrations"]
    assert sorted(r["meeting_id"] for r in registrations) == sorted(meetings.values())
    assert {r["name"] for r in registrations} == {"Alice Martin"}
    assert len({r["council"] for r in registrations}) == 2  # two councils
    assert all(r["meeting_title"] and r["meeting_starts_at"] for r in registrations)
    assert any(r["needs"] == "Fauteuil" for r in registrations)
    assert all("token" not in r and "feed_token" not in r for r in registrations)
    [subscription] = data["subscriptions"]
    assert subscription["status"] == "pending"
    expected = await OutboxMessage.count().where(OutboxMessage.recipient == ADDRESS)
    assert len(data["emails"]) == expected >= 5
    assert {e["kind"] for e in data["emails"]} >= {"registration_confirmed", "privacy_link"}
    assert len(data["data_links"]) == 1
    assert "someone-else" not in answer.text
    # The page shows the same, in French.
    page = await client.get(f"/mes-donnees/{token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    for text in ("Inscriptions aux réunions", "Réunion passée", "Abonnements aux annonces"):
        assert text in page.text
    assert await Subscription.count().where(Subscription.email == ADDRESS) == 1

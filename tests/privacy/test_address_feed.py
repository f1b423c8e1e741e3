"""The address-level calendar feed ("toutes mes réunions") and the manage page's personal
data: the feed lists the confirmed meetings of the address across councils, is reached
only from the emailed page, dies when renewed or erased; a registration's own erasure."""

from __future__ import annotations

import icalendar
from httpx import AsyncClient

from meetings.tables import AddressFeed, Registration
from tests.support.facilitator_support import make_facilitator
from tests.support.privacy_support import address_feed_token, ask_link, data_links
from tests.support.registration_support import (
    by_status,
    outbox_rows,
    person,
    published_meeting,
    sign_up,
    token_of,
)

ADDRESS = "habitante.1@example.org"


def _feed(token: str) -> str:
    return f"/agenda/adresse/{token}/calendrier.ics"


async def test_the_address_feed_lists_confirmed_meetings_across_councils(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    here = await published_meeting(client, tamaris_auth, title="Café de Tamaris")
    other_auth = await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    there = await published_meeting(
        client, other_auth, council="ales-rive-droite", title="Conseil de Rive droite"
    )
    full = await published_meeting(client, tamaris_auth, title="Complet", capacity=1)
    await sign_up(client, here["id"], person(1))
    await sign_up(client, there["id"], person(1))
    await sign_up(client, full["id"], person(2))
    await sign_up(client, full["id"], person(1))  # waiting: not in the feed
    token = await ask_link(client, ADDRESS)
    page = await client.get(f"/mes-donnees/{token}")
    feed_token = address_feed_token(page.text)
    assert "Nouvelle adresse d'agenda" in page.text
    answer = await client.get(_feed(feed_token))
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.content)
    titles = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    assert len(titles) == 2  # not the meeting it waits for
    assert "Café de Tamaris" in titles[0] and "Conseil de Rive droite" in titles[1]
    assert feed_token not in (await client.get(f"/inscriptions/{token}")).text
    # The same page shows the same feed again; renewing kills the old URL.
    again = await client.get(f"/mes-donnees/{token}")
    assert address_feed_token(again.text) == feed_token
    renewed = await client.post(f"/mes-donnees/{token}/agenda")
    assert renewed.status_code == 200
    assert "l'ancienne ne fonctionne plus" in renewed.text
    new_token = address_feed_token(renewed.text)
    assert new_token != feed_token
    assert (await client.get(_feed(feed_token))).status_code == 404
    assert (await client.get(_feed(new_token))).status_code == 200
    assert (await client.get(_feed("court"))).status_code == 404
    # Erasure deletes it.
    assert (await client.post(f"/mes-donnees/{token}/effacer")).status_code == 303
    assert (await client.get(_feed(new_token))).status_code == 404
    assert await AddressFeed.count() == 0


async def test_the_manage_page_sends_the_data_link_to_the_address_only(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    mine = await sign_up(client, meeting["id"], person(1))
    manage = token_of(mine["manage_url"])
    page = await client.get(f"/inscriptions/{manage}")
    assert "Recevoir le lien de mon agenda complet" in page.text
    answer = await client.post(f"/inscriptions/{manage}/mes-donnees")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "Un courriel vient d'être envoyé" in answer.text
    [link] = await data_links(ADDRESS)
    assert link not in answer.text
    assert "/mes-donnees/" not in answer.text
    assert (await client.get(f"/mes-donnees/{link}")).status_code == 200


async def test_deleting_my_data_from_the_manage_page(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    mine = await sign_up(client, meeting["id"], person(1, name="Zoé Durand"))
    await sign_up(client, meeting["id"], person(2))  # waiting
    manage = token_of(mine["manage_url"])
    confirm = await client.get(f"/inscriptions/{manage}/supprimer")
    assert confirm.status_code == 200
    assert confirm.headers["cache-control"] == "no-store"
    assert "Oui, supprimer mes données" in confirm.text
    assert await Registration.count().where(Registration.name == "Zoé Durand") == 1  # asked only
    done = await client.post(f"/inscriptions/{manage}/supprimer")
    assert done.status_code == 200
    assert "Vos données sont supprimées" in done.text
    found = await by_status(meeting["id"])
    assert [r["email"] for r in found["confirmed"]] == ["habitante.2@example.org"]
    [erased] = found["cancelled"]
    assert (erased["name"], erased["email"], erased["phone"]) == ("", "", "")
    assert await outbox_rows(recipient=ADDRESS) == []  # its confirmation went with it
    assert await outbox_rows("registration_cancelled") == []  # quietly
    assert [r["recipient"] for r in await outbox_rows("registration_promoted")] == [
        "habitante.2@example.org"
    ]
    assert (await client.get(f"/inscriptions/{manage}")).status_code == 404
    assert (await client.post(f"/inscriptions/{manage}/supprimer")).status_code == 404
    # The address may sign up again: nothing of the erased row stands in its way.
    again = await sign_up(client, meeting["id"], person(1))
    assert again["status"] == "waitlisted"

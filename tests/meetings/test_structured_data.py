"""Meeting pages carry a schema.org Event in JSON-LD with what Google's Event structured data
requires (name, startDate, location with an address or a URL) and recommends (endDate,
eventStatus, eventAttendanceMode, organizer, description, offers), and stay inert whatever a
facilitator types."""

from __future__ import annotations

import json
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from httpx import AsyncClient

from meetings.demo import CANCELLED
from meetings.tables import Meeting
from tests.support.backoffice_support import signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.registration_support import MEETING, person, published_meeting, sign_up

BASE = "http://testserver.local"
SCHEMA = "https://schema.org"
HOSTILE = "</script><script>alert(1)</script>"


class Scripts(HTMLParser):
    """Every <script> element of a page as a browser's parser splits it: attributes, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[dict[str, str | None], str]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append((dict(attrs), ""))
            self._inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            attrs, text = self.found[-1]
            self.found[-1] = (attrs, text + data)


def scripts(page: str) -> list[tuple[dict[str, str | None], str]]:
    parser = Scripts()
    parser.feed(page)
    parser.close()
    return parser.found


async def event_of(client: AsyncClient, meeting_id: int) -> dict[str, Any]:
    """The page's one script element: JSON-LD, parsed."""
    response = await client.get(f"/reunions/{meeting_id}")
    assert response.status_code == 200
    (found,) = scripts(response.text)
    attrs, text = found
    assert attrs == {"type": "application/ld+json"}
    return json.loads(text)


def assert_google_event(event: dict[str, Any]) -> None:
    """Google's Event structured data: the required properties, then the recommended ones
    with the values it accepts."""
    assert event["@context"] == SCHEMA and event["@type"] == "Event"
    assert isinstance(event["name"], str) and event["name"]
    for key in ("startDate", "endDate"):
        moment = datetime.fromisoformat(event[key])
        assert moment.utcoffset() is not None, key  # with its offset, never a floating time
    assert datetime.fromisoformat(event["startDate"]) < datetime.fromisoformat(event["endDate"])
    locations = event["location"]
    for location in locations if isinstance(locations, list) else [locations]:
        if location["@type"] == "Place":
            assert location["name"]
            address = location["address"]
            assert address["@type"] == "PostalAddress"
            assert address["addressCountry"] == "FR" and address["streetAddress"]
        else:
            assert location["@type"] == "VirtualLocation" and location["url"].startswith("http")
    assert event["eventStatus"] in {f"{SCHEMA}/EventScheduled", f"{SCHEMA}/EventCancelled"}
    assert event["eventAttendanceMode"] in {
        f"{SCHEMA}/{mode}EventAttendanceMode" for mode in ("Offline", "Online", "Mixed")
    }
    assert event["organizer"]["@type"] == "Organization"
    assert event["organizer"]["name"] and event["organizer"]["url"].startswith(f"{BASE}/conseils/")
    assert event["description"] and "<" not in event["description"]
    assert event["isAccessibleForFree"] is True
    assert event["url"].startswith(f"{BASE}/reunions/")
    if "offers" in event:
        offer = event["offers"]
        assert offer["@type"] == "Offer" and offer["price"] == 0 and offer["priceCurrency"] == "EUR"
        assert offer["availability"] in {f"{SCHEMA}/InStock", f"{SCHEMA}/SoldOut"}
        assert datetime.fromisoformat(offer["validFrom"]).utcoffset() is not None


async def test_a_demo_meeting_is_a_google_event(client: AsyncClient, demo: None) -> None:
    row = await Meeting.select().where(Meeting.title == "Café citoyen : les jeux pour enfants")
    meeting = row[0]
    event = await event_of(client, meeting["id"])
    assert_google_event(event)
    assert event["name"] == meeting["title"]
    assert datetime.fromisoformat(event["startDate"]) == meeting["starts_at"]
    assert datetime.fromisoformat(event["endDate"]) == meeting["ends_at"]
    assert event["startDate"].endswith(("+01:00", "+02:00"))  # Paris time
    assert event["eventStatus"] == f"{SCHEMA}/EventScheduled"
    assert event["eventAttendanceMode"] == f"{SCHEMA}/OfflineEventAttendanceMode"
    assert event["location"] == {
        "@type": "Place",
        "name": "Maison de quartier de Tamaris",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Rue de la Lozère",
            "postalCode": "30100",
            "addressLocality": "Alès",
            "addressCountry": "FR",
        },
    }
    assert event["organizer"] == {
        "@type": "Organization",
        "name": "Conseil citoyen Alès Tamaris",
        "url": f"{BASE}/conseils/ales-tamaris",
    }
    assert event["url"] == f"{BASE}/reunions/{meeting['id']}"
    assert event["maximumAttendeeCapacity"] == 20
    assert event["remainingAttendeeCapacity"] == 20
    assert event["description"].startswith("Ordre du jour proposé par les membres du conseil")
    assert event["offers"]["url"] == f"{BASE}/reunions/{meeting['id']}#inscription"


async def test_remaining_capacity_follows_sign_ups(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    assert (await event_of(client, meeting["id"]))["remainingAttendeeCapacity"] == 2
    await sign_up(client, meeting["id"], person(1))
    assert (await event_of(client, meeting["id"]))["remainingAttendeeCapacity"] == 1  # not cached
    await sign_up(client, meeting["id"], person(2))
    event = await event_of(client, meeting["id"])
    assert event["remainingAttendeeCapacity"] == 0
    assert event["offers"]["availability"] == f"{SCHEMA}/SoldOut"
    unlimited = await published_meeting(
        client, tamaris_auth, title="Café citoyen : sans limite", capacity=None
    )
    event = await event_of(client, unlimited["id"])
    assert "remainingAttendeeCapacity" not in event and "maximumAttendeeCapacity" not in event


async def test_a_cancelled_meeting_is_event_cancelled(client: AsyncClient, demo: None) -> None:
    (title,) = CANCELLED
    row = await Meeting.select(Meeting.id).where(Meeting.title == title).first()
    event = await event_of(client, row["id"])
    assert_google_event(event)
    assert event["eventStatus"] == f"{SCHEMA}/EventCancelled"
    assert "offers" not in event and "remainingAttendeeCapacity" not in event


async def test_online_and_mixed_meetings(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    link = "https://visio.example.org/conseil-tamaris"
    online = await published_meeting(
        client,
        tamaris_auth,
        title="Café citoyen en ligne",
        venue="",
        address="",
        online_url=link,
    )
    event = await event_of(client, online["id"])
    assert_google_event(event)
    assert event["eventAttendanceMode"] == f"{SCHEMA}/OnlineEventAttendanceMode"
    assert event["location"] == {"@type": "VirtualLocation", "url": link}
    mixed = await published_meeting(
        client, tamaris_auth, title="Café citoyen mixte", online_url=link
    )
    event = await event_of(client, mixed["id"])
    assert_google_event(event)
    assert event["eventAttendanceMode"] == f"{SCHEMA}/MixedEventAttendanceMode"
    place, virtual = event["location"]
    assert place["@type"] == "Place" and place["address"]["postalCode"] == "30100"
    assert virtual == {"@type": "VirtualLocation", "url": link}


async def test_a_hostile_title_stays_text(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    description = "Voir </SCRIPT ><img src=x onerror=alert(2)> & <!-- puis -->"
    meeting = await published_meeting(
        client, tamaris_auth, title=HOSTILE, description=description, venue="<b>Salle</b>"
    )
    page = (await client.get(f"/reunions/{meeting['id']}")).text
    # A browser's parser finds one script element, the JSON-LD, ending where we end it.
    found = scripts(page)
    assert [attrs for attrs, _ in found] == [{"type": "application/ld+json"}]
    raw = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw and "&" not in raw
    event = json.loads(raw)
    assert event["name"] == HOSTILE
    assert event["location"]["name"] == "<b>Salle</b>"
    assert "</SCRIPT >" in event["description"]
    assert_google_event({**event, "description": "texte"})


async def test_the_preview_leaves_it_out(client: AsyncClient, demo: None) -> None:
    """The back-office's preview renders the same template (a draft is no event yet)."""
    await make_facilitator("anim.tamaris@ales.fr", "ales-tamaris")
    await signed_in(client, "anim.tamaris@ales.fr")
    created = await client.post(
        "/api/v1/meetings",
        json=MEETING,
        headers=await make_facilitator("autre.tamaris@ales.fr", "ales-tamaris"),
    )
    draft_id = created.json()["id"]
    preview = await client.get(f"/animation/reunions/{draft_id}/apercu")
    assert preview.status_code == 200
    assert MEETING["title"] in preview.text
    assert scripts(preview.text) == []

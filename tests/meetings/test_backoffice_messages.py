"""Writing to a meeting's registrants from the back-office: who receives it (confirmed, the
waiting list on request, never a walk-in without an address), what it says (plain text,
escaped in HTML, the usual footer with the manage link), once per form however often it
is posted, and the bad input (a subject with a line break, too long, empty)."""

from __future__ import annotations

import html
import re

from httpx import AsyncClient

from meetings.tables import Council
from notifications.mime import compose
from notifications.tables import OutboxMessage
from tests.support.backoffice_registrants_support import audit_lines, base, tamaris_meeting
from tests.support.backoffice_support import post_form
from tests.support.registration_support import (
    html_text,
    manage_links,
    message_of,
    outbox_rows,
    plain_text,
    registration_of,
)

TEXT = "Bonjour à toutes et à tous,\n\nApportez <b>vos idées</b> & vos questions.\n=SUM(A1)"


async def form_key(client: AsyncClient, meeting_id: int) -> str:
    page = await client.get(f"{base(meeting_id)}/message")
    assert page.status_code == 200
    found = re.search(r'name="form_key" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def send(client: AsyncClient, meeting_id: int, **fields: str):
    return await post_form(client, f"{base(meeting_id)}/message", fields)


async def test_the_form_says_who_will_receive_it(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    page = await client.get(f"{base(setup['meeting']['id'])}/message")
    assert page.status_code == 200
    text = html.unescape(re.sub(r"<[^>]+>", "", page.text))
    assert "aux 3 personnes confirmées" in text
    assert "Écrire aussi aux 2 personnes de la liste d'attente" in text
    assert 'maxlength="150"' in page.text and 'maxlength="5000"' in page.text


async def test_a_message_goes_to_confirmed_registrants_with_the_usual_footer(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    await post_form(
        client,
        f"{base(meeting_id)}/inscriptions/sur-place",
        {"name": "Sans Adresse", "attending_as": "other"},
    )
    key = await form_key(client, meeting_id)
    sent = await send(client, meeting_id, subject="Salle changée", text=TEXT, form_key=key)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{base(meeting_id)}/inscriptions?fait=message&n=3"
    assert "Message envoyé à 3 personnes." in (await client.get(sent.headers["location"])).text
    rows = await outbox_rows("registrants_message", meeting_id=meeting_id)
    assert sorted(r["recipient"] for r in rows) == [f"habitante.{n}@example.org" for n in (1, 2, 3)]
    assert all(r["status"] == "queued" and r["subject"] == "Salle changée" for r in rows)
    message = message_of(next(r for r in rows if r["recipient"] == "habitante.1@example.org"))
    assert message["Subject"] == "Salle changée"
    council = await Council.select().where(Council.slug == "ales-tamaris").first()
    assert message["Reply-To"] == council["contact_email"]
    assert message["From"].addresses[0].display_name == council["name"]
    text = plain_text(message)
    assert text.startswith("Bonjour Habitante n° 1,\n\n" + TEXT)
    own = await registration_of(meeting_id, "habitante.1@example.org")
    assert manage_links(message) == [own["manage_url"]]  # the footer: their own link
    body = html_text(message)
    assert "Apportez &lt;b&gt;vos idées&lt;/b&gt; &amp; vos questions." in body
    assert "<b>vos idées</b>" not in body
    assert own["manage_url"] in body
    [line] = [line for line in await audit_lines() if line["action"] == "meeting.message"]
    assert line["object_id"] == meeting_id
    assert line["detail"].endswith("recipients=3 waitlist=0")
    assert "Salle" not in line["detail"]


async def test_the_waiting_list_on_request(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    key = await form_key(client, meeting_id)
    sent = await send(
        client, meeting_id, subject="Info", text="Bonjour", form_key=key, waitlist="oui"
    )
    assert sent.headers["location"].endswith("fait=message&n=5")
    assert len(await outbox_rows("registrants_message", meeting_id=meeting_id)) == 5


async def test_a_double_click_sends_once(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    key = await form_key(client, meeting_id)
    first = await send(client, meeting_id, subject="Info", text="Bonjour", form_key=key)
    second = await send(client, meeting_id, subject="Info", text="Bonjour", form_key=key)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"].endswith("fait=message-deja&n=3")
    followed = html.unescape((await client.get(second.headers["location"])).text)
    assert "Ce message était déjà parti" in followed
    assert len(await outbox_rows("registrants_message", meeting_id=meeting_id)) == 3
    assert len(await audit_lines()) == 1
    # a new form is a new message
    again = await send(
        client,
        meeting_id,
        subject="Info",
        text="Bonjour",
        form_key=await form_key(client, meeting_id),
    )
    assert again.headers["location"].endswith("fait=message&n=3")
    assert len(await outbox_rows("registrants_message", meeting_id=meeting_id)) == 6


async def test_bad_input_is_refused_beside_the_field_and_nothing_is_sent(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    key = await form_key(client, meeting_id)
    for fields, field, message in (
        (
            {"subject": "Salut\r\nBcc: tous@example.org", "text": "x"},
            "subject",
            "retour à la ligne",
        ),
        ({"subject": "Salut\nX", "text": "x"}, "subject", "retour à la ligne"),
        ({"subject": "S" * 151, "text": "x"}, "subject", "150 caractères"),
        ({"subject": " ", "text": "x"}, "subject", "Ne doit pas être vide."),
        ({"subject": "Salut", "text": ""}, "text", "Ne doit pas être vide."),
        ({"subject": "Salut", "text": "t" * 5001}, "text", "5000 caractères"),
        ({"subject": "Salut", "text": "a\x00b"}, "text", "caractères de contrôle"),
    ):
        refused = await send(client, meeting_id, form_key=key, **fields)
        assert refused.status_code == 400, fields
        assert f'id="{field}-erreur"' in refused.text
        assert message in html.unescape(refused.text)
        assert "Le message n'est pas envoyé." in html.unescape(refused.text)
        assert f'value="{key}"' in refused.text  # the same form: it has not gone yet
    stale = await send(client, meeting_id, subject="Salut", text="x", form_key="court")
    assert stale.status_code == 400
    assert "rechargez la page" in stale.text
    assert await OutboxMessage.select().where(OutboxMessage.kind == "registrants_message") == []
    assert await audit_lines() == []
    # the key was not spent by the refusals
    sent = await send(client, meeting_id, subject="Salut", text="x", form_key=key)
    assert sent.status_code == 303


async def test_no_recipient_is_said_so(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client, signups=0)
    meeting_id = setup["meeting"]["id"]
    refused = await send(
        client, meeting_id, subject="Salut", text="x", form_key=await form_key(client, meeting_id)
    )
    assert refused.status_code == 400
    assert "Aucune personne inscrite n'a d'adresse" in html.unescape(refused.text)


def test_the_header_builder_keeps_a_subject_on_one_line() -> None:
    """Belt and braces: even a subject that reached the outbox with a line break stays one
    header (the service refuses it first)."""
    from datetime import UTC, datetime

    from conseils.settings import get_settings
    from notifications.drafts import Draft

    draft = Draft(key="k", kind="registrants_message", recipient="a@example.org",
                  subject="Salut\r\nBcc: b@example.org", text_body="x")  # fmt: skip
    raw = compose(draft, "<id@example.org>", datetime(2026, 1, 1, tzinfo=UTC), get_settings().mail)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers

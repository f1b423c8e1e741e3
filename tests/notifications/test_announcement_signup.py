"""A new meeting's announcement offers "S'inscrire" when the meeting takes sign-ups, says
plainly that accepting the calendar invitation is not a registration, and shows the
description from Markdown in its HTML part only (inert, whatever it holds)."""

from __future__ import annotations

import email
from email import policy
from typing import TYPE_CHECKING

from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.tables import Meeting
from tests.support.mail_support import (
    active_subscriber,
    create_meeting,
    deliver_all,
    forget_confirmations,
    mail_settings,
    make_relay,
    publish,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink

SUBSCRIBER = "habitante@example.org"


async def announced(
    client: AsyncClient,
    auth: dict[str, str],
    sink: SmtpSink,
    *,
    closed: bool = False,
    **fields: object,
) -> tuple[int, str, str]:
    """Publish a meeting to one subscriber: its id, and the text and HTML parts received.
    `closed`: its sign-ups closed before it was published (set in the database: the API
    refuses a closing time in the past)."""
    await active_subscriber(SUBSCRIBER)
    await forget_confirmations()
    meeting = await create_meeting(client, auth, **fields)
    if closed:
        await Meeting.update({Meeting.registration_closes_at: now_utc()}).where(
            Meeting.id == meeting["id"]
        )
    await publish(client, auth, meeting["id"])
    await deliver_all(make_relay(mail_settings(sink)))
    [received] = sink.received
    message = email.message_from_bytes(received.data, policy=policy.default)
    plain, html, _ = next(message.iter_parts()).iter_parts()  # type: ignore[attr-defined]
    return meeting["id"], plain.get_content().replace("\r\n", "\n"), html.get_content()


async def test_the_announcement_offers_to_sign_up(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    mid, text, html = await announced(client, tamaris_auth, smtp_sink, capacity=20)
    form = f"http://testserver.local/reunions/{mid}#inscription"
    assert f"S'inscrire : {form}" in text
    assert "Accepter l'invitation dans votre agenda ne vous inscrit pas." in text
    assert f'<a href="{form}" style=' in html and ">S'inscrire</a>" in html
    assert "Accepter l'invitation dans votre agenda ne vous inscrit pas." in html


async def test_no_sign_up_when_registration_is_closed(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    _, text, html = await announced(client, tamaris_auth, smtp_sink, closed=True)
    assert "S'inscrire" not in text and "#inscription" not in html
    assert "l'accepter n'est pas une inscription" in text


async def test_the_description_is_markdown_in_html_and_as_written_in_text(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    description = (
        "**Ordre du jour** : le parc, voir https://ales.fr/parc.\n\n"
        "<script>alert(1)</script> [clic](javascript:alert(2)) ![x](https://pisteur.example/p.gif)"
    )
    _, text, html = await announced(client, tamaris_auth, smtp_sink, description=description)
    assert "<strong>Ordre du jour</strong>" in html
    assert '<a href="https://ales.fr/parc" rel="nofollow ugc">https://ales.fr/parc</a>' in html
    assert "<script" not in html and 'href="javascript:' not in html
    assert "<img" not in html
    assert description in text  # the text part keeps what was written

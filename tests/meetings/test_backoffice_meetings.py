"""The facilitators' meeting pages (/animation/reunions): create in Paris time, edit,
duplicate, preview, publish, cancel with a reason, delete a draft; the bad input each
refuses with a French message beside the field; another council's facilitator reaches
nothing; every action leaves its audit line."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from conseils.tables import AuditEntry
from meetings.tables import Meeting
from tests.support.backoffice_support import post_form, signed_in
from tests.support.dates import LIKE_2031
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import active_subscriber, forget_confirmations
from tests.support.registration_support import (
    message_of,
    outbox_rows,
    person,
    plain_text,
    published_meeting,
    set_meeting,
    sign_up,
)

TAMARIS = "anim.tamaris@ales.fr"
OTHER = "anim.rive-droite@ales.fr"
LIST = "/animation/reunions"
WINTER = f"{LIKE_2031}-01-15"  # Paris is UTC+1
SUMMER = f"{LIKE_2031}-07-15"  # Paris is UTC+2


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def form(**overrides: str) -> dict[str, str]:
    values = {
        "form_key": "cle-du-formulaire-1",
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": "Café citoyen : les jardins partagés",
        "description": "On parle **jardins** et compost.",
        "starts_at_date": WINTER,
        "starts_at_time": "18:00",
        "ends_at_date": "",
        "ends_at_time": "20:00",
        "venue": "Maison de quartier de Tamaris",
        "address": "Rue de la Lozère, 30100 Alès",
        "online_url": "",
        "capacity": "30",
        "registration_opens_at_date": "",
        "registration_opens_at_time": "",
        "registration_closes_at_date": "",
        "registration_closes_at_time": "",
    }
    values.update(overrides)
    return values


@pytest.fixture
async def tamaris(client: httpx.AsyncClient, demo: None) -> dict[str, str]:
    """A Tamaris facilitator, signed in in `client`; returns their API header too."""
    auth = await make_facilitator(TAMARIS, "ales-tamaris")
    await signed_in(client, TAMARIS)
    return auth


async def ours() -> list[dict]:
    """Meetings made by the tests (the demo's are not titled so)."""
    return await Meeting.select().where(Meeting.title.like("Café citoyen : les jardins%"))


async def created_id(answer: httpx.Response, done: str = "creee") -> int:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(rf"{LIST}/(\d+)\?fait={done}", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found[1])


async def actions(meeting_id: int) -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_id == meeting_id)
    return [row["action"] for row in sorted(rows, key=lambda r: r["action"])]


def field_message(page: str, name: str) -> str:
    found = re.search(rf'<p id="{name}-erreur" class="errors">([^<]*)</p>', page)
    assert found, f"no message beside {name}"
    return html.unescape(found[1])


# ---------------------------------------------------------------- the journey


async def test_create_in_paris_time_stores_utc_and_shows_the_offset(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    page = await client.get(f"{LIST}/nouvelle")
    assert page.status_code == 200
    assert 'name="_csrf_token"' in page.text
    key = re.search(r'name="form_key" value="([^"]+)"', page.text)
    assert key and len(key[1]) >= 20
    assert "UTC+1 en hiver, UTC+2 en été" in page.text

    winter = await created_id(await post_form(client, f"{LIST}/nouvelle", form()))
    summer = await created_id(
        await post_form(
            client,
            f"{LIST}/nouvelle",
            form(form_key="cle-2", starts_at_date=SUMMER, title="Café citoyen : les jardins d'été"),
        )
    )
    rows = {row["id"]: row for row in await ours()}
    assert rows[winter]["starts_at"] == datetime(LIKE_2031, 1, 15, 17, tzinfo=UTC)
    assert rows[winter]["ends_at"] == datetime(LIKE_2031, 1, 15, 19, tzinfo=UTC)
    assert rows[summer]["starts_at"] == datetime(LIKE_2031, 7, 15, 16, tzinfo=UTC)
    assert (rows[winter]["status"], rows[winter]["capacity"]) == ("draft", 30)
    assert await actions(winter) == ["meeting.create"]

    shown = await client.get(f"{LIST}/{winter}?fait=creee")
    assert shown.status_code == 200
    assert "La réunion est enregistrée comme brouillon" in shown.text
    assert "de 18 h à 20 h</time> (heure de Paris, UTC+1)" in shown.text
    edit = await client.get(f"{LIST}/{summer}/modifier")
    assert edit.status_code == 200
    assert f'name="starts_at_date" value="{SUMMER}"' in edit.text
    assert 'name="starts_at_time" value="18:00"' in edit.text
    assert "Heure de Paris : heure de Paris, UTC+2." in edit.text
    listing = await client.get(LIST)
    assert listing.status_code == 200
    assert "Café citoyen : les jardins partagés" in listing.text
    filtered = await client.get(f"{LIST}?conseil=ales-tamaris")
    assert filtered.status_code == 200
    assert "<h1>Réunions — Conseil citoyen Alès Tamaris</h1>" in filtered.text
    assert "Café citoyen : les jardins partagés" in filtered.text


async def test_edit_preview_publish_cancel_with_reason(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    await active_subscriber("abonnee@example.org")
    await forget_confirmations()
    meeting_id = await created_id(await post_form(client, f"{LIST}/nouvelle", form()))

    edited = await post_form(
        client,
        f"{LIST}/{meeting_id}/modifier",
        form(title="Café citoyen : les jardins partagés, 2e édition", starts_at_time="18:30"),
    )
    assert edited.status_code == 303
    assert edited.headers["location"] == f"{LIST}/{meeting_id}?fait=modifiee"
    row = await Meeting.select().where(Meeting.id == meeting_id).first()
    assert row["title"] == "Café citoyen : les jardins partagés, 2e édition"
    assert row["starts_at"] == datetime(LIKE_2031, 1, 15, 17, 30, tzinfo=UTC)

    # The draft's page is not public; its preview is, to its facilitators, never cached.
    assert (await client.get(f"/reunions/{meeting_id}")).status_code == 404
    preview = await client.get(f"{LIST}/{meeting_id}/apercu")
    assert preview.status_code == 200
    assert "Aperçu — brouillon non publié" in preview.text
    assert '<meta name="robots" content="noindex, nofollow">' in preview.text
    assert preview.headers["x-robots-tag"] == "noindex, nofollow"
    assert preview.headers["cache-control"] == "no-store"
    assert "<strong>jardins</strong>" in preview.text  # the description's Markdown

    published = await post_form(client, f"{LIST}/{meeting_id}/publier")
    assert published.headers["location"] == f"{LIST}/{meeting_id}?fait=publiee"
    public = await client.get(f"/reunions/{meeting_id}")
    assert public.status_code == 200
    # The preview is the public page, article for article.
    preview = await client.get(f"{LIST}/{meeting_id}/apercu")
    article = re.compile(r"<article.*</article>", re.DOTALL)
    assert article.search(preview.text)[0] == article.search(public.text)[0]

    registrant = await sign_up(client, meeting_id, person(1))
    assert registrant["status"] == "confirmed"

    no_reason = await post_form(client, f"{LIST}/{meeting_id}/annuler", {"reason": "  "})
    assert no_reason.status_code == 400
    assert "Indiquez le motif" in field_message(no_reason.text, "reason")
    too_long = await post_form(client, f"{LIST}/{meeting_id}/annuler", {"reason": "x" * 1001})
    assert too_long.status_code == 400
    assert (await Meeting.select(Meeting.status).where(Meeting.id == meeting_id).first())[
        "status"
    ] == "published"

    reason = "La salle est inondée & fermée jusqu'à nouvel ordre."
    page = await client.get(f"{LIST}/{meeting_id}/annuler")
    assert page.status_code == 200 and 'maxlength="1000"' in page.text
    cancelled = await post_form(client, f"{LIST}/{meeting_id}/annuler", {"reason": reason})
    assert cancelled.headers["location"] == f"{LIST}/{meeting_id}?fait=annulee"
    row = await Meeting.select().where(Meeting.id == meeting_id).first()
    assert (row["status"], row["cancellation_reason"]) == ("cancelled", reason)

    public = await client.get(f"/reunions/{meeting_id}")
    assert "Annulée : La salle est inondée &amp; fermée jusqu&#39;à nouvel ordre." in public.text
    api = await client.get(f"/api/v1/meetings/{meeting_id}")
    assert api.json()["cancellation_reason"] == reason

    mails = await outbox_rows("meeting_cancelled", meeting_id=meeting_id)
    assert sorted(r["recipient"] for r in mails) == [
        "abonnee@example.org",
        "habitante.1@example.org",
    ]
    for row in mails:
        message = message_of(row)
        assert f"Motif de l'annulation : {reason}" in plain_text(message)
        body = message.get_body(("html",)).get_content()
        assert "annulation : La salle est inondée &amp; fermée" in body
    assert await actions(meeting_id) == [
        "meeting.cancel",
        "meeting.create",
        "meeting.publish",
        "meeting.update",
    ]


async def test_delete_a_draft_after_confirming(client: httpx.AsyncClient, tamaris: dict) -> None:
    meeting_id = await created_id(await post_form(client, f"{LIST}/nouvelle", form()))
    confirm = await client.get(f"{LIST}/{meeting_id}/supprimer")
    assert confirm.status_code == 200
    assert "Supprimer définitivement" in confirm.text
    assert await Meeting.exists().where(Meeting.id == meeting_id)  # asking deletes nothing
    gone = await post_form(client, f"{LIST}/{meeting_id}/supprimer")
    assert gone.status_code == 303 and gone.headers["location"] == f"{LIST}?fait=supprimee"
    assert not await Meeting.exists().where(Meeting.id == meeting_id)
    assert await actions(meeting_id) == ["meeting.create", "meeting.delete"]


async def test_a_published_meeting_is_cancelled_not_deleted(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    meeting = await published_meeting(client, tamaris)
    answer = await post_form(client, f"{LIST}/{meeting['id']}/supprimer")
    assert answer.status_code == 403
    assert await Meeting.exists().where(Meeting.id == meeting["id"])


async def test_duplicate_a_meeting_as_a_new_draft(client: httpx.AsyncClient, tamaris: dict) -> None:
    source_id = await created_id(
        await post_form(client, f"{LIST}/nouvelle", form(online_url="https://visio.example/a"))
    )
    week_later = (date.fromisoformat(WINTER) + timedelta(days=7)).isoformat()
    page = await client.get(f"{LIST}/{source_id}/dupliquer")
    assert page.status_code == 200
    assert f'name="starts_at_date" value="{week_later}"' in page.text
    assert 'name="starts_at_time" value="18:00"' in page.text
    assert 'value="Café citoyen : les jardins partagés"' in page.text
    assert 'value="https://visio.example/a"' in page.text
    assert "On parle **jardins** et compost." in page.text

    picked = await client.get(f"{LIST}/{source_id}/dupliquer?date={SUMMER}")
    assert f'name="starts_at_date" value="{SUMMER}"' in picked.text
    copy_id = await created_id(
        await post_form(client, f"{LIST}/nouvelle", form(form_key="copie", starts_at_date=SUMMER))
    )
    copy = await Meeting.select().where(Meeting.id == copy_id).first()
    assert copy["status"] == "draft"
    assert copy["starts_at"] == datetime(LIKE_2031, 7, 15, 16, tzinfo=UTC)

    # A past meeting: one week later is past too, so the dates are left to choose.
    start = datetime.now(UTC) - timedelta(days=30)
    await set_meeting(source_id, starts_at=start, ends_at=start + timedelta(hours=2))
    page = await client.get(f"{LIST}/{source_id}/dupliquer")
    assert 'name="starts_at_date" value=""' in page.text
    assert "Choisissez la date de la nouvelle réunion." in page.text


# ---------------------------------------------------------------- bad input


async def test_double_submit_makes_one_meeting(client: httpx.AsyncClient, tamaris: dict) -> None:
    first = await created_id(await post_form(client, f"{LIST}/nouvelle", form()))
    again = await post_form(client, f"{LIST}/nouvelle", form())
    assert await created_id(again, "deja") == first
    assert len(await ours()) == 1
    assert await actions(first) == ["meeting.create"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"starts_at_date": "2020-03-02"}, "starts_at", "Ne peut pas être dans le passé"),
        ({"ends_at_time": "17:00"}, "ends_at", "Doit être après le début."),
        ({"council": "nulle-part"}, "council", "Conseil inconnu"),
        ({"starts_at_time": "25:00"}, "starts_at", "Heure invalide"),
        ({"starts_at_date": "32/01/2031"}, "starts_at", "Date invalide"),
        ({"capacity": "trente"}, "capacity", "Indiquez un nombre entier"),
        ({"title": " "}, "title", "Ne doit pas être vide"),
        ({"address": "", "venue": ""}, "address", "Indiquez une adresse ou un lien"),
        ({"registration_opens_at_date": WINTER}, "registration_opens_at", "Indiquez aussi"),
    ],
)
async def test_bad_input_is_refused_beside_the_field(
    client: httpx.AsyncClient, tamaris: dict, overrides: dict, field: str, message: str
) -> None:
    answer = await post_form(client, f"{LIST}/nouvelle", form(**overrides))
    assert answer.status_code == 400, answer.text
    assert field_message(answer.text, field).startswith(message)
    assert f'href="#{field}"' in answer.text  # the summary links to the field
    assert 'aria-invalid="true"' in answer.text
    # What was typed is kept, the same form key with it (a retry stays one meeting).
    assert 'value="cle-du-formulaire-1"' in answer.text
    assert await ours() == []


@pytest.mark.parametrize(
    ("month", "words"),
    [(3, "n'existe pas"), (10, "existe deux fois")],
)
async def test_a_time_the_change_of_hour_skips_or_repeats_is_refused(
    client: httpx.AsyncClient, tamaris: dict, month: int, words: str
) -> None:
    day = last_sunday(LIKE_2031, month).isoformat()
    answer = await post_form(
        client,
        f"{LIST}/nouvelle",
        form(starts_at_date=day, starts_at_time="02:30", ends_at_time="04:00"),
    )
    assert answer.status_code == 400
    message = field_message(answer.text, "starts_at")
    assert f"2 h 30 {words} le dimanche" in message
    assert "choisissez une heure avant 2 h ou à partir de 3 h" in message
    assert await ours() == []
    # Around it, the clock is plain: 3 h 30 on the spring day is 1 h 30 UTC (UTC+2).
    ok = await post_form(
        client,
        f"{LIST}/nouvelle",
        form(starts_at_date=day, starts_at_time="03:30", ends_at_time="05:00"),
    )
    row = (await ours())[0]
    assert ok.status_code == 303
    hour = 1 if month == 3 else 2
    assert row["starts_at"].astimezone(UTC).hour == hour


async def test_capacity_under_the_seats_taken_is_refused_with_the_number(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    meeting = await published_meeting(client, tamaris, capacity=3)
    for n in range(3):
        await sign_up(client, meeting["id"], person(n))
    answer = await post_form(
        client,
        f"{LIST}/{meeting['id']}/modifier",
        form(
            title=meeting["title"],
            starts_at_date=f"{LIKE_2031}-09-18",
            capacity="2",
        ),
    )
    assert answer.status_code == 400
    assert "déjà 3 places prises" in field_message(answer.text, "capacity")
    row = await Meeting.select().where(Meeting.id == meeting["id"]).first()
    assert (row["capacity"], row["title"]) == (3, meeting["title"])
    # The API refuses it the same way (one rule, in the service).
    patched = await client.patch(
        f"/api/v1/meetings/{meeting['id']}", json={"capacity": 1}, headers=tamaris
    )
    assert patched.status_code == 400
    assert "déjà 3 places prises" in patched.json()["extra"][0]["message"]
    # At the number taken, it is accepted.
    assert (
        await client.patch(
            f"/api/v1/meetings/{meeting['id']}",
            json={"capacity": 3, "title": "Nouveau"},
            headers=tamaris,
        )
    ).status_code == 200


async def test_the_api_cancels_with_or_without_a_reason(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    first = await published_meeting(client, tamaris)
    second = await published_meeting(client, tamaris, title="Une autre")
    bare = await client.post(f"/api/v1/meetings/{first['id']}/cancel", headers=tamaris)
    assert bare.status_code == 200
    assert (bare.json()["status"], bare.json()["cancellation_reason"]) == ("cancelled", "")
    too_long = await client.post(
        f"/api/v1/meetings/{second['id']}/cancel", json={"reason": "x" * 1001}, headers=tamaris
    )
    assert too_long.status_code == 400
    given = await client.post(
        f"/api/v1/meetings/{second['id']}/cancel",
        json={"reason": "Intempéries annoncées."},
        headers=tamaris,
    )
    assert given.status_code == 200
    assert given.json()["cancellation_reason"] == "Intempéries annoncées."
    mails = await outbox_rows("meeting_cancelled", meeting_id=second["id"])
    assert all("Motif de l'annulation : Intempéries" in plain_text(message_of(r)) for r in mails)


async def test_a_start_in_the_past_is_refused_by_the_api_too(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    answer = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-tamaris", "kind": "cafe", "title": "Trop tard",
            "starts_at": past, "ends_at": later, "address": "Rue de la Lozère, 30100 Alès",
        },
        headers=tamaris,
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["extra"] == [
        {"key": "starts_at", "message": "ne peut pas être dans le passé"}
    ]


# ---------------------------------------------------------------- who sees what


async def test_another_councils_facilitator_reaches_nothing(
    client: httpx.AsyncClient, tamaris: dict, app
) -> None:
    draft_id = await created_id(await post_form(client, f"{LIST}/nouvelle", form()))
    published = await published_meeting(client, tamaris, title="Publiée à Tamaris")
    await make_facilitator(OTHER, "ales-rive-droite")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as other:
        await signed_in(other, OTHER)
        for meeting_id in (draft_id, published["id"]):
            for action in ("", "/modifier", "/apercu", "/dupliquer", "/annuler", "/supprimer"):
                answer = await other.get(f"{LIST}/{meeting_id}{action}")
                assert answer.status_code == 404, (meeting_id, action)
            for action, body in (
                ("/modifier", form(title="Piratée")),
                ("/publier", {}),
                ("/annuler", {"reason": "Piratée"}),
                ("/supprimer", {}),
            ):
                answer = await post_form(other, f"{LIST}/{meeting_id}{action}", body)
                assert answer.status_code == 404, (meeting_id, action)
        # Nor may it create for Tamaris, even with the right slug.
        answer = await post_form(other, f"{LIST}/nouvelle", form(form_key="autre"))
        assert answer.status_code == 403
        assert field_message(answer.text, "council") == "Vous n'animez pas ce conseil citoyen."
        listing = await other.get(LIST)
        dashboard = await other.get("/animation/")
        for page in (listing, dashboard):
            assert "les jardins partagés" not in page.text
            assert "Publiée à Tamaris" not in page.text
        assert 'value="ales-tamaris"' not in (await other.get(f"{LIST}/nouvelle")).text
        assert (await other.get(f"{LIST}?conseil=ales-tamaris")).status_code == 400
    rows = await Meeting.select().where(Meeting.id.is_in([draft_id, published["id"]]))
    assert sorted((r["status"], r["title"]) for r in rows) == [
        ("draft", "Café citoyen : les jardins partagés"),
        ("published", "Publiée à Tamaris"),
    ]
    assert len(await ours()) == 1


async def test_anonymous_visitors_and_forged_posts_change_nothing(
    client: httpx.AsyncClient, tamaris: dict, app
) -> None:
    meeting = await published_meeting(client, tamaris)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as anonymous:
        answer = await anonymous.get(LIST)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/animation/connexion?suite=")
        refused = await anonymous.post(f"{LIST}/{meeting['id']}/annuler", data={"reason": "x"})
        assert refused.status_code in (401, 403)
    # Signed in, but without the CSRF token: refused.
    forged = await client.post(f"{LIST}/{meeting['id']}/annuler", data={"reason": "x"})
    assert forged.status_code == 403
    row = await Meeting.select(Meeting.status).where(Meeting.id == meeting["id"]).first()
    assert row["status"] == "published"


# ---------------------------------------------------------------- dashboard


async def test_dashboard_shows_next_meetings_with_seats_and_drafts(
    client: httpx.AsyncClient, tamaris: dict
) -> None:
    meeting = await published_meeting(client, tamaris, capacity=1)
    await sign_up(client, meeting["id"], person(1))
    await sign_up(client, meeting["id"], person(2))  # waits
    opens = datetime(LIKE_2031, 9, 1, 8, tzinfo=UTC)
    later = await published_meeting(
        client, tamaris, title="Plus tard", registration_opens_at=opens.isoformat()
    )
    await created_id(await post_form(client, f"{LIST}/nouvelle", form()))
    page = await client.get("/animation/")
    assert page.status_code == 200
    text = page.text
    assert 'id="panel-reunions-prochaines">Prochaines réunions</h2>' in text
    assert 'id="panel-reunions-brouillons">Brouillons à publier</h2>' in text
    upcoming = text.split("panel-reunions-prochaines", 1)[1].split("panel-reunions-brouillons")[0]
    drafts = text.split("panel-reunions-brouillons", 1)[1]
    row = upcoming.split(f'/animation/reunions/{meeting["id"]}"', 1)[1].split("</tr>")[0]
    assert "<td>1 / 1</td>" in row and "<td>1</td>" in row  # one seat taken, one waiting
    later_row = upcoming.split(f'/animation/reunions/{later["id"]}"', 1)[1].split("</tr>")[0]
    assert f"Ouvrent le lundi 1er septembre {LIKE_2031} à 10 h" in later_row
    assert "les jardins partagés" in drafts and "les jardins partagés" not in upcoming
    assert '<a href="/animation/reunions"' in text  # the menu entry

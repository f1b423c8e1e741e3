"""A meeting's registrants in the back-office: the list and its counts, cancel and
"indésirable", walk-ins, attendance in one submit, the CSV by a plain link, the audit lines,
and another council's facilitator who reaches none of it.

The Tamaris café has 3 seats and 5 sign-ups (three confirmed, two waiting), through the API.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.tables import Meeting, Registration
from notifications.tables import OutboxMessage
from tests.support.backoffice_registrants_support import (
    OTHER,
    TAMARIS,
    add_rows,
    audit_lines,
    base,
    counted_queries,
    tamaris_meeting,
)
from tests.support.backoffice_support import csrf_token, post_form, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.registration_support import (
    MEETING,
    by_status,
    meeting_row,
    outbox_rows,
    person,
    published_meeting,
    registrations,
    set_meeting,
    sign_up,
)


def rows_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# ---------------------------------------------------------------- the list


async def test_the_list_shows_each_registrant_and_the_counts(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    await Registration.update({Registration.needs: "Fauteuil <roulant>"}).where(
        Registration.id == setup["people"][0]["id"]
    )
    page = await client.get(f"{base(meeting_id)}/inscriptions")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = rows_text(page.text)
    for n in range(1, 6):
        assert f"Habitante n° {n}" in text
    assert "3 places prises sur 3" in text
    assert "2 en liste d'attente" in text
    assert "Liste d'attente, n o 1" in text and "Liste d'attente, n o 2" in text
    assert text.count("Confirmé·e") == 3
    assert "Habitant·e" in text
    assert "Fauteuil &lt;roulant&gt;" in page.text  # escaped
    assert 'href="tel:0612345678"' in page.text
    # every registrant has a check-box, a cancel and a spam link
    for item in setup["people"]:
        assert f'name="present" value="{item["id"]}"' in page.text
        assert f"/inscriptions/{item['id']}/annuler" in page.text
        assert f"/inscriptions/{item['id']}/indesirable" in page.text


async def test_anonymous_visitors_are_sent_to_sign_in(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    client.cookies.clear()
    page = await client.get(f"{base(meeting_id)}/inscriptions")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/animation/connexion?suite=")
    csv_link = await client.get(f"{base(meeting_id)}/inscriptions.csv")
    assert csv_link.status_code == 303


async def test_the_page_costs_the_same_queries_whatever_the_number_of_registrants(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client, signups=2)
    meeting_id = setup["meeting"]["id"]
    url = f"{base(meeting_id)}/inscriptions"
    await client.get(url)  # warm: the session, the templates
    with counted_queries() as few:
        assert (await client.get(url)).status_code == 200
    await add_rows(meeting_id, [(f"Personne {n}", "resident") for n in range(60)])
    await add_rows(meeting_id, [(f"Attente {n}", "other") for n in range(20)], "waitlisted")
    with counted_queries() as many:
        page = await client.get(url)
    assert page.status_code == 200 and "Attente 19" in page.text
    assert len(many) == len(few) <= 4, many


# ---------------------------------------------------------------- cancel and spam


async def test_cancelling_asks_then_tells_the_person_and_promotes_the_waiting_list(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    first, fourth = setup["people"][0], setup["people"][3]
    url = f"{base(meeting_id)}/inscriptions/{first['id']}/annuler"
    asked = await client.get(url)
    assert asked.status_code == 200
    assert "Annuler l'inscription de Habitante n° 1" in html.unescape(asked.text)
    assert (await registrations(meeting_id))[0]["status"] == "confirmed"  # not yet

    done = await post_form(client, url)
    assert done.status_code == 303
    assert done.headers["location"] == f"{base(meeting_id)}/inscriptions?fait=annulee"
    followed = await client.get(done.headers["location"])
    assert "Inscription annulée" in followed.text
    found = await by_status(meeting_id)
    assert [r["id"] for r in found["cancelled"]] == [first["id"]]
    assert fourth["id"] in [r["id"] for r in found["confirmed"]]
    assert (await meeting_row(meeting_id))["seats_taken"] == 3
    told = await outbox_rows("registration_cancelled", recipient="habitante.1@example.org")
    assert len(told) == 1
    assert len(await outbox_rows("registration_promoted", recipient="habitante.4@example.org"))
    [line] = await audit_lines()
    assert (line["action"], line["object_kind"], line["object_id"]) == (
        "registration.cancel",
        "registration",
        first["id"],
    )
    assert line["detail"] == f"meeting={meeting_id}"
    assert "Habitante" not in str(line) and "example.org" not in str(line)


async def test_spam_is_deleted_without_an_email(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    second = setup["people"][1]
    url = f"{base(meeting_id)}/inscriptions/{second['id']}/indesirable"
    asked = await client.get(url)
    assert asked.status_code == 200 and "sans courriel" in asked.text
    done = await post_form(client, url)
    assert done.status_code == 303
    assert done.headers["location"].endswith("?fait=indesirable")
    assert second["id"] not in [r["id"] for r in await registrations(meeting_id)]
    to_spam = await OutboxMessage.select().where(
        OutboxMessage.recipient == "habitante.2@example.org"
    )
    assert to_spam == []  # even its confirmation went with it
    assert (await meeting_row(meeting_id))["seats_taken"] == 3  # the waiting list moved up
    assert [line["action"] for line in await audit_lines()] == ["registration.delete_spam"]


async def test_a_registration_of_another_meeting_is_not_found_under_this_one(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    other = await published_meeting(client, setup["auth"], title="Un autre café")
    stranger = await sign_up(client, other["id"], person("autre"))
    for action in ("annuler", "indesirable"):
        url = f"{base(meeting_id)}/inscriptions/{stranger['id']}/{action}"
        assert (await client.get(url)).status_code == 404
        assert (await post_form(client, url)).status_code == 404
    assert (await registrations(other["id"]))[0]["status"] == "confirmed"
    assert await audit_lines() == []


async def test_a_post_without_the_csrf_token_changes_nothing(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    first = setup["people"][0]
    refused = await client.post(f"{base(meeting_id)}/inscriptions/{first['id']}/annuler")
    assert refused.status_code == 403
    forged = await client.post(
        f"{base(meeting_id)}/inscriptions/presences",
        data={"_csrf_token": "0" * 64, "present": str(first["id"])},
    )
    assert forged.status_code == 403
    rows = await registrations(meeting_id)
    assert rows[0]["status"] == "confirmed" and rows[0]["attended"] is None


# ---------------------------------------------------------------- walk-ins


async def walk_in(client: AsyncClient, meeting_id: int, **fields: str):
    return await post_form(client, f"{base(meeting_id)}/inscriptions/sur-place", fields)


async def test_a_walk_in_without_address_takes_a_seat_is_present_and_hears_nothing(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    before = len(await OutboxMessage.select())
    added = await walk_in(client, meeting_id, name="Jean Passant", attending_as="other")
    assert added.status_code == 303
    assert added.headers["location"].endswith("?fait=sur-place")
    again = await walk_in(client, meeting_id, name="Jeanne Passante", attending_as="local_actor")
    assert again.status_code == 303
    rows = await registrations(meeting_id)
    walk_ins = [r for r in rows if r["walk_in"]]
    assert [(r["name"], r["status"], r["attended"], r["email"]) for r in walk_ins] == [
        ("Jean Passant", "confirmed", True, ""),
        ("Jeanne Passante", "confirmed", True, ""),
    ]
    assert walk_ins[0]["key"] != walk_ins[1]["key"]
    # past the capacity: they are in the room; the waiting list stays as it was
    meeting = await meeting_row(meeting_id)
    assert (meeting["capacity"], meeting["seats_taken"]) == (3, 5)
    assert len((await by_status(meeting_id))["waitlisted"]) == 2
    assert len(await OutboxMessage.select()) == before
    page = await client.get(f"{base(meeting_id)}/inscriptions?fait=sur-place")
    assert "Jean Passant" in page.text and "sur place" in page.text
    assert "Personne ajoutée sur place, marquée présente." in page.text
    exported = await client.get(f"{base(meeting_id)}/inscriptions.csv")
    lines = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    walk_in_line = next(line for line in lines if line[0] == "Jean Passant")
    assert walk_in_line[1:8] == ["", "", "Autre", "", "Venu·e sans inscription", "", "oui"]
    assert [line["action"] for line in await audit_lines()] == ["registration.walk_in"] * 2
    assert (await audit_lines())[0]["detail"] == f"meeting={meeting_id} seat=1 email=0"


async def test_a_walk_in_without_address_is_never_written_to_even_when_cancelled(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client, signups=1)
    meeting_id = setup["meeting"]["id"]
    await walk_in(client, meeting_id, name="Jean Passant", attending_as="other")
    await walk_in(client, meeting_id, name="Jeanne Passante", attending_as="other")
    first, second = [r for r in await registrations(meeting_id) if r["walk_in"]]
    cancelled = await post_form(client, f"{base(meeting_id)}/inscriptions/{first['id']}/annuler")
    assert cancelled.status_code == 303
    spam = await post_form(client, f"{base(meeting_id)}/inscriptions/{second['id']}/indesirable")
    assert spam.status_code == 303
    assert (await meeting_row(meeting_id))["seats_taken"] == 1
    # the meeting changes, then is cancelled: the registrant with an address hears of it
    moved = await client.patch(
        f"/api/v1/meetings/{meeting_id}", json={"venue": "Salle des fêtes"}, headers=setup["auth"]
    )
    assert moved.status_code == 200
    assert (
        await client.post(f"/api/v1/meetings/{meeting_id}/cancel", headers=setup["auth"])
    ).status_code == 200
    assert await OutboxMessage.select().where(OutboxMessage.recipient == "") == []
    assert len(await outbox_rows("meeting_cancelled", recipient="habitante.1@example.org")) == 1


async def test_a_walk_in_with_an_address_is_confirmed_by_email_before_the_meeting_only(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    added = await walk_in(
        client, meeting_id, name="Léa Tôt", attending_as="resident", email=" Lea@Example.org "
    )
    assert added.status_code == 303
    [row] = [r for r in await registrations(meeting_id) if r["email"] == "lea@example.org"]
    assert row["key"] == f"{meeting_id}:lea@example.org" and row["attended"] is True
    assert len(await outbox_rows("registration_confirmed", recipient="lea@example.org")) == 1

    # once the meeting has started, someone in the room gets no email
    await set_meeting(meeting_id, starts_at=now_utc() - timedelta(minutes=30))
    added = await walk_in(
        client, meeting_id, name="Paul Tard", attending_as="resident", email="paul@example.org"
    )
    assert added.status_code == 303
    assert await outbox_rows(recipient="paul@example.org") == []
    assert any(r["email"] == "paul@example.org" for r in await registrations(meeting_id))


async def test_an_address_already_registered_is_marked_present_not_added_twice(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    confirmed = await walk_in(
        client, meeting_id, name="H1", attending_as="resident", email="habitante.1@example.org"
    )
    assert confirmed.headers["location"].endswith("?fait=deja-inscrite")
    waiting = await walk_in(
        client, meeting_id, name="H5", attending_as="resident", email="habitante.5@example.org"
    )
    assert waiting.headers["location"].endswith("?fait=sur-place")
    rows = {r["email"]: r for r in await registrations(meeting_id)}
    assert len(rows) == 5
    assert rows["habitante.1@example.org"]["attended"] is True
    assert rows["habitante.1@example.org"]["walk_in"] is False
    fifth = rows["habitante.5@example.org"]
    assert (fifth["status"], fifth["attended"], fifth["walk_in"]) == ("confirmed", True, False)
    assert (await meeting_row(meeting_id))["seats_taken"] == 4
    assert rows["habitante.4@example.org"]["status"] == "waitlisted"  # not jumped


async def test_walk_in_bad_input_is_refused_beside_each_field(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    before = await registrations(meeting_id)
    for fields, field, message in (
        ({"name": "  ", "attending_as": "resident"}, "name", "Ne doit pas être vide."),
        ({"name": "A\nB", "attending_as": "resident"}, "name", "retour à la ligne"),
        ({"name": "x" * 121, "attending_as": "resident"}, "name", "120 caractères"),
        ({"name": "Ana", "attending_as": "maire"}, "attending_as", "Choisissez"),
        ({"name": "Ana"}, "attending_as", "Choisissez"),
        (
            {"name": "Ana", "attending_as": "other", "email": "pas-une-adresse"},
            "email",
            "Adresse électronique invalide.",
        ),
    ):
        refused = await walk_in(client, meeting_id, **fields)
        assert refused.status_code == 400, fields
        assert f'id="{field}-erreur"' in refused.text
        assert message in refused.text
        assert f'aria-describedby="{field}-erreur' in refused.text
    assert await registrations(meeting_id) == before
    assert await audit_lines() == []


async def test_no_walk_in_for_a_cancelled_meeting(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    cancelled = await client.post(f"/api/v1/meetings/{meeting_id}/cancel", headers=setup["auth"])
    assert cancelled.status_code == 200
    refused = await walk_in(client, meeting_id, name="Jean", attending_as="resident")
    assert refused.status_code == 409
    assert "Cette réunion est annulée." in refused.text
    assert not any(r["walk_in"] for r in await registrations(meeting_id))


# ---------------------------------------------------------------- attendance


async def mark(client: AsyncClient, meeting_id: int, present: list[int], listed: list[int]):
    return await post_form(
        client,
        f"{base(meeting_id)}/inscriptions/presences",
        {"present": [str(i) for i in present], "listed": [str(i) for i in listed]},
    )


async def test_attendance_is_saved_in_one_submit(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    ids = [p["id"] for p in setup["people"]]
    saved = await mark(client, meeting_id, [ids[0], ids[2], ids[4]], ids)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{base(meeting_id)}/inscriptions?fait=presences&n=3"
    page = await client.get(saved.headers["location"])
    assert "3 présents enregistrés." in page.text
    assert page.text.count("checked") >= 3
    attended = {r["id"]: r["attended"] for r in await registrations(meeting_id)}
    assert attended == {ids[0]: True, ids[1]: False, ids[2]: True, ids[3]: False, ids[4]: True}
    [line] = await audit_lines()
    assert (line["action"], line["object_id"], line["detail"]) == (
        "meeting.attendance",
        meeting_id,
        "present=3 absent=2",
    )
    # unchecking everything is a choice too
    cleared = await mark(client, meeting_id, [], ids)
    assert cleared.headers["location"].endswith("fait=presences&n=0")
    assert "Aucun présent enregistré." in (await client.get(cleared.headers["location"])).text
    assert {r["attended"] for r in await registrations(meeting_id)} == {False}


async def test_attendance_leaves_alone_who_was_not_on_the_form(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    ids = [p["id"] for p in setup["people"]]
    late = await sign_up(client, meeting_id, person("tard"))  # after the page was shown
    cancelled = await client.post(f"/api/v1/registrations/{ids[1]}/cancel", headers=setup["auth"])
    assert cancelled.status_code == 200
    saved = await mark(client, meeting_id, [ids[0]], ids)
    assert saved.status_code == 303
    attended = {r["id"]: r["attended"] for r in await registrations(meeting_id)}
    assert attended[late["id"]] is None
    assert attended[ids[1]] is None  # cancelled: not marked absent
    assert attended[ids[0]] is True and attended[ids[2]] is False


async def test_attendance_refuses_foreign_or_malformed_ids_and_changes_nothing(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    ids = [p["id"] for p in setup["people"]]
    assert (await mark(client, meeting_id, [ids[0]], ids)).status_code == 303
    other = await published_meeting(client, setup["auth"], title="Un autre café")
    stranger = await sign_up(client, other["id"], person("autre"))
    before = await registrations(meeting_id)
    audit_before = await audit_lines()
    for present, listed in (
        ([ids[1], stranger["id"]], ids),  # one of another meeting among them
        ([ids[1]], [*ids, stranger["id"]]),
        ([999_999], ids),
    ):
        refused = await mark(client, meeting_id, present, listed)
        assert refused.status_code == 400
        assert "Les présences ne sont pas enregistrées." in refused.text
    for bad in ("abc", "-1", "0", "1e3", "99999999999999999999", "²"):
        refused = await post_form(
            client, f"{base(meeting_id)}/inscriptions/presences", {"present": bad}
        )
        assert refused.status_code == 400, bad
    assert await registrations(meeting_id) == before
    assert (await registrations(other["id"]))[0]["attended"] is None
    assert await audit_lines() == audit_before


async def test_a_cancelled_registration_cannot_be_marked_present(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    ids = [p["id"] for p in setup["people"]]
    assert (
        await post_form(client, f"{base(meeting_id)}/inscriptions/{ids[0]}/annuler")
    ).is_redirect
    refused = await mark(client, meeting_id, [ids[0]], ids)
    assert refused.status_code == 400
    assert (await registrations(meeting_id))[0]["attended"] is None


# ---------------------------------------------------------------- CSV


async def test_the_csv_link_gives_the_apis_csv_with_a_readable_name(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    await Registration.update({Registration.name: '=HYPERLINK("http://x")'}).where(
        Registration.id == setup["people"][0]["id"]
    )
    await walk_in(client, meeting_id, name="Jean Passant", attending_as="other")
    exported = await client.get(f"{base(meeting_id)}/inscriptions.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == (
        'attachment; filename="inscriptions-'
        f'{setup["meeting"]["starts_at"][:10]}-cafe-citoyen-la-rentree-des-associations.csv"'
    )
    api = await client.get(
        f"/api/v1/meetings/{meeting_id}/registrations.csv", headers=setup["auth"]
    )
    assert exported.content == api.content
    assert exported.content.startswith("\ufeff".encode())
    assert "'=HYPERLINK" in exported.text  # neutralised, as the API's
    assert "Jean Passant" in exported.text


async def test_the_api_never_takes_the_session_for_the_csv(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    api = await client.get(f"/api/v1/meetings/{setup['meeting']['id']}/registrations.csv")
    assert api.status_code == 401


# ---------------------------------------------------------------- another council


async def test_another_councils_facilitator_reaches_nothing_and_changes_nothing(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client)
    meeting_id = setup["meeting"]["id"]
    draft = await client.post(
        "/api/v1/meetings", json={**MEETING, "title": "Brouillon"}, headers=setup["auth"]
    )
    assert draft.status_code == 201
    first = setup["people"][0]["id"]
    await make_facilitator(OTHER, "ales-rive-droite")
    client.cookies.clear()
    await signed_in(client, OTHER)
    rows_before = await registrations(meeting_id)
    mail_before = await OutboxMessage.select()
    gets = ["/inscriptions", "/inscriptions.csv", f"/inscriptions/{first}/annuler",
            f"/inscriptions/{first}/indesirable", "/emargement", "/emargement.pdf",
            "/message"]  # fmt: skip
    posts = {
        f"/inscriptions/{first}/annuler": {},
        f"/inscriptions/{first}/indesirable": {},
        "/inscriptions/sur-place": {"name": "Intrus", "attending_as": "other"},
        "/inscriptions/presences": {"present": str(first), "listed": str(first)},
        "/message": {"subject": "Coucou", "text": "Bonjour", "form_key": "k" * 32},
    }
    for path in gets:
        answer = await client.get(base(meeting_id) + path)
        assert answer.status_code == 403, path
        assert "Habitante" not in answer.text
        hidden = await client.get(base(draft.json()["id"]) + path)
        assert hidden.status_code == 404, path  # another council's draft does not exist
    for path, fields in posts.items():
        answer = await post_form(client, base(meeting_id) + path, fields)
        assert answer.status_code == 403, path
    assert (await client.get(f"{base(999_999)}/inscriptions")).status_code == 404
    assert await registrations(meeting_id) == rows_before
    assert await OutboxMessage.select() == mail_before
    assert await audit_lines() == []


async def test_an_admin_reaches_every_council(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client)
    await make_facilitator("admin@ales.fr", admin=True)
    client.cookies.clear()
    await signed_in(client, "admin@ales.fr")
    page = await client.get(f"{base(setup['meeting']['id'])}/inscriptions")
    assert page.status_code == 200 and "Habitante n° 1" in page.text
    assert await csrf_token(client)
    assert TAMARIS  # the facilitator the meeting was made by
    assert (await Meeting.count()) > 0

"""Facilitators clean up their councils' registrations: cancel or delete one, with the
waiting list moving up, and the person told unless the sign-up was abuse."""

from __future__ import annotations

from httpx import AsyncClient

from conseils.settings import get_settings
from meetings.tables import Registration
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import deliver_all, mail_settings, make_relay
from tests.support.privacy_support import maildir_files_holding
from tests.support.registration_support import (
    by_status,
    meeting_row,
    outbox_rows,
    person,
    published_meeting,
    sign_up,
)


async def test_a_facilitator_cancels_a_registration_and_the_waiting_list_moves_up(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await sign_up(client, meeting["id"], person(1))
    await sign_up(client, meeting["id"], person(2))  # waiting
    answer = await client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=tamaris_auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert answer.headers["cache-control"] == "no-store"
    found = await by_status(meeting["id"])
    assert [r["email"] for r in found["confirmed"]] == ["habitante.2@example.org"]
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 1
    # The person is told, with the CANCEL for their calendar; the promoted one too.
    [cancelled] = await outbox_rows("registration_cancelled")
    assert cancelled["recipient"] == "habitante.1@example.org"
    assert [r["recipient"] for r in await outbox_rows("registration_promoted")] == [
        "habitante.2@example.org"
    ]
    again = await client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=tamaris_auth)
    assert again.status_code == 200  # harmless
    assert len(await outbox_rows("registration_cancelled")) == 1


async def test_spam_is_cancelled_without_writing_to_the_address(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=5)
    robot = await sign_up(client, meeting["id"], person("robot"))
    answer = await client.post(
        f"/api/v1/registrations/{robot['id']}/cancel",
        json={"spam": True},
        headers=tamaris_auth,
    )
    assert answer.status_code == 200
    assert await outbox_rows("registration_cancelled") == []
    # What was still queued for that address is not sent either.
    [confirmation] = await outbox_rows("registration_confirmed")
    assert confirmation["status"] == "cancelled"


async def test_a_facilitator_deletes_a_registration(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await sign_up(client, meeting["id"], person(1))
    await sign_up(client, meeting["id"], person(2))
    gone = await client.delete(
        f"/api/v1/registrations/{first['id']}", params={"spam": "true"}, headers=tamaris_auth
    )
    assert gone.status_code == 204
    assert await Registration.count().where(Registration.id == first["id"]) == 0
    found = await by_status(meeting["id"])
    assert [r["email"] for r in found["confirmed"]] == ["habitante.2@example.org"]
    assert await outbox_rows("registration_cancelled") == []
    again = await client.delete(f"/api/v1/registrations/{first['id']}", headers=tamaris_auth)
    assert again.status_code == 404


async def test_only_the_councils_facilitators_clean_up(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    mine = await sign_up(client, meeting["id"], person(1))
    other = await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    url = f"/api/v1/registrations/{mine['id']}"
    assert (await client.post(f"{url}/cancel", headers=other)).status_code == 403
    assert (await client.delete(url, headers=other)).status_code == 403
    assert (await client.post(f"{url}/cancel")).status_code == 401
    assert (await client.delete(url)).status_code == 401
    for missing in (999_999, 2**31, 0):
        path = f"/api/v1/registrations/{missing}"
        assert (await client.post(f"{path}/cancel", headers=tamaris_auth)).status_code == 404
        assert (await client.delete(path, headers=tamaris_auth)).status_code == 404
    assert (await by_status(meeting["id"]))["confirmed"][0]["id"] == mine["id"]


async def test_a_deleted_registration_takes_its_emails_and_maildir_files_with_it(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=5)
    robot = await sign_up(client, meeting["id"], person("robot"))
    kept = await sign_up(client, meeting["id"], person("kept"))
    told = await sign_up(client, meeting["id"], person("told"))
    await deliver_all(make_relay(mail_settings(maildir=get_settings().mail.maildir)))
    assert maildir_files_holding("habitante.robot@example.org")
    gone = await client.delete(
        f"/api/v1/registrations/{robot['id']}", params={"spam": "true"}, headers=tamaris_auth
    )
    assert gone.status_code == 204
    assert await outbox_rows(recipient="habitante.robot@example.org") == []
    assert maildir_files_holding("habitante.robot@example.org") == []
    assert [r["kind"] for r in await outbox_rows(recipient="habitante.kept@example.org")] == [
        "registration_confirmed"
    ]
    # Not spam: the person still gets the CANCEL for their calendar, and nothing else stays.
    assert (
        await client.delete(f"/api/v1/registrations/{told['id']}", headers=tamaris_auth)
    ).status_code == 204
    left = await outbox_rows(recipient="habitante.told@example.org")
    assert [(r["kind"], r["status"]) for r in left] == [("registration_cancelled", "queued")]
    assert maildir_files_holding("habitante.told@example.org") == []
    assert kept["status"] == "confirmed"

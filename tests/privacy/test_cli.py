"""`conseils privacy export|erase --email`, run as a real process on the suite's database."""

from __future__ import annotations

import json
import os

from httpx import AsyncClient

from meetings.tables import Registration
from tests.support.live_server import run_cli, server_env
from tests.support.privacy_support import tables_holding
from tests.support.registration_support import person, published_meeting, sign_up

ADDRESS = "habitante.1@example.org"


def _env() -> dict[str, str]:
    return server_env(os.environ["DATABASE_URL"], 8000)


async def test_export_prints_every_record_as_json(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1, name="Paulette"))
    done = run_cli("privacy", "export", "--email", " Habitante.1@example.org", env=_env())
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["email"] == ADDRESS
    [registration] = data["registrations"]
    assert (registration["name"], registration["meeting_id"]) == ("Paulette", meeting["id"])
    assert [e["kind"] for e in data["emails"]] == ["registration_confirmed"]
    bad = run_cli("privacy", "export", "--email", "nope", env=_env())
    assert bad.returncode == 2
    assert "email: adresse électronique invalide" in bad.stderr


async def test_erase_asks_first_unless_yes(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    refused = run_cli("privacy", "erase", "--email", ADDRESS, env=_env(), input="non\n")
    assert refused.returncode == 1
    assert "rien n'a été effacé" in refused.stdout
    assert await Registration.count().where(Registration.email == ADDRESS) == 1
    agreed = run_cli("privacy", "erase", "--email", ADDRESS, env=_env(), input="oui\n")
    assert agreed.returncode == 0, agreed.stderr
    assert (
        json.loads(agreed.stdout.splitlines()[-1].split("] ", 1)[-1])["erased"]["registrations"]
        == 1
    )
    assert await tables_holding(ADDRESS) == []
    await sign_up(client, meeting["id"], person(1))
    quiet = run_cli("privacy", "erase", "--email", ADDRESS, "--yes", env=_env())
    assert quiet.returncode == 0, quiet.stderr
    assert await tables_holding(ADDRESS) == []

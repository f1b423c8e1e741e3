"""`conseils facilitator list|deactivate|send-reset`, run as real processes on the suite's
database (`create` and `demo`: tests/system/test_cli.py)."""

from __future__ import annotations

import os

import httpx

from accounts.tables import ApiToken, Facilitator
from conseils.tables import AuditEntry
from tests.support.account_support import emailed_links, link_path
from tests.support.backoffice_support import signed_in
from tests.support.live_server import run_cli, server_env
from tests.support.mail_support import MEETING

TAMARIS = "anim.tamaris@ales.fr"
ADMIN = "admin@ales.fr"


def _env() -> dict[str, str]:
    return server_env(os.environ["DATABASE_URL"], 8000)


async def test_list_prints_every_account_without_secrets(
    admin_auth: dict, tamaris_auth: dict
) -> None:
    done = run_cli("facilitator", "list", env=_env())
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.strip().splitlines()
    assert header.split("\t")[0] == "email"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert set(rows) == {TAMARIS, ADMIN}
    assert rows[TAMARIS][2:5] == ["non", "actif", "ales-tamaris"]
    assert rows[ADMIN][2:5] == ["oui", "actif", "-"]
    assert "argon2" not in done.stdout and "$" not in done.stdout


async def test_deactivate_ends_sessions_and_tokens(
    client: httpx.AsyncClient, admin_auth: dict, tamaris_auth: dict
) -> None:
    await signed_in(client, TAMARIS)
    done = run_cli("facilitator", "deactivate", " Anim.Tamaris@ales.fr", env=_env())
    assert done.returncode == 0, done.stderr
    assert f"facilitator {TAMARIS} deactivated" in done.stdout
    assert (await client.get("/animation/")).status_code == 303
    refused = await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    assert refused.status_code == 401
    row = await Facilitator.select().where(Facilitator.email == TAMARIS).first()
    assert row is not None and not row["active"] and row["session_version"] == 1
    assert (
        await ApiToken.count().where(
            (ApiToken.facilitator == row["id"]) & ApiToken.revoked_at.is_null()
        )
        == 0
    )
    [line] = await AuditEntry.select()
    assert (line["actor_id"], line["action"], line["object_id"]) == (
        0,
        "facilitator.deactivate",
        row["id"],
    )
    listed = run_cli("facilitator", "list", env=_env())
    assert any(
        line.startswith(TAMARIS) and "désactivé" in line for line in listed.stdout.splitlines()
    )


async def test_deactivate_refuses_the_last_admin_and_unknown_addresses(
    admin_auth: dict,
) -> None:
    last = run_cli("facilitator", "deactivate", ADMIN, env=_env())
    assert last.returncode == 2 and "dernier administrateur actif" in last.stderr
    unknown = run_cli("facilitator", "deactivate", "personne@ales.fr", env=_env())
    assert unknown.returncode == 2 and "Aucun compte" in unknown.stderr
    bad = run_cli("facilitator", "deactivate", "pas-une-adresse", env=_env())
    assert bad.returncode == 2 and "adresse électronique invalide" in bad.stderr
    assert await Facilitator.count().where(Facilitator.active == True) == 1  # noqa: E712


async def test_send_reset_emails_the_link_and_never_prints_it(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    done = run_cli("facilitator", "send-reset", TAMARIS, env=_env())
    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout
    [token] = await emailed_links(TAMARIS)
    assert token not in done.stdout + done.stderr
    assert (await client.get(link_path(token))).status_code == 200
    unknown = run_cli("facilitator", "send-reset", "personne@ales.fr", env=_env())
    assert unknown.returncode == 2 and "no active facilitator" in unknown.stderr
    assert len(await emailed_links(TAMARIS)) == 1

"""A database made before the re-layout (facilitators in the meetings app, no fan-out jobs)
upgrades with `conseils migrate`, its data intact, on the suite's engine.

The old database is built by the migrations as they were then (each app up to its last
migration of that time), filled with a facilitator, a token, a council, a meeting, a
registration, a subscription, an email and change-log rows; then today's code migrates it
and must find every row, and log the facilitator in with the old password and old token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

OLD_HEADS = {  # each app's last migration before the re-layout
    "meetings": "2026-11-26T11:25:40:484441",
    "notifications": "2026-11-26T11:15:39:100410",
}
PASSWORD = "le mot de passe d'avant"
OLD_TOKEN = "un-jeton-emis-avant-la-mise-a-jour-0123456789"

BUILD_OLD = f"""
import asyncio, hashlib
from datetime import datetime, timedelta, UTC
from argon2 import PasswordHasher
from piccolo.apps.migrations.commands.forwards import run_forwards

async def main():
    for app, head in {OLD_HEADS!r}.items():
        result = await run_forwards(app_name=app, migration_id=head)
        assert result.success, result.message
    # Today's table classes name the same tables and columns as then (but registration's
    # and facilitator's).
    from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
    from conseils.tables import MeetingChange
    from meetings.tables import Council, Meeting, Registration
    from notifications.tables import OutboxMessage, Subscription
    now = datetime.now(UTC)
    council = (await Council.insert(Council(name="Conseil citoyen Alès Tamaris",
        slug="ales-tamaris", contact_email="c@ales.fr")).returning(Council.id))[0]["id"]
    # Raw: today's Facilitator and ApiToken have columns that did not exist then.
    person = (await Facilitator.raw(
        "INSERT INTO facilitator (email, display_name, password_hash, is_admin, active, "
        "created_at) VALUES ({{}}, {{}}, {{}}, false, true, {{}}) RETURNING id",
        "anim@ales.fr", "Anim", PasswordHasher().hash({PASSWORD!r}), now))[0]["id"]
    await FacilitatorCouncil.insert(FacilitatorCouncil(facilitator=person, council=council))
    await ApiToken.raw(
        "INSERT INTO api_token (facilitator, token_hash, created_at, expires_at) "
        "VALUES ({{}}, {{}}, {{}}, {{}})",
        person, hashlib.sha256({OLD_TOKEN!r}.encode()).hexdigest(), now,
        now + timedelta(hours=12))
    # Raw: today's Meeting has columns that did not exist then.
    meeting = (await Meeting.raw(
        "INSERT INTO meeting (council, kind, title, description, starts_at, ends_at, venue, "
        "address, status, uid, seats_taken, arrivals, sequence, created_at, updated_at) "
        "VALUES ({{}}, 'cafe', 'Café', '', {{}}, {{}}, '', 'Rue de la Lozère', 'published', "
        "'uid-1', 1, 1, 0, {{}}, {{}}) RETURNING id",
        council, now + timedelta(days=3), now + timedelta(days=3, hours=2), now, now))[0]["id"]
    # Raw: today's Registration has columns that did not exist then.
    await Registration.raw(
        "INSERT INTO registration (meeting, key, email, name, phone, attending_as, needs, "
        "status, arrival, token, consent_at, created_at) "
        "VALUES ({{}}, {{}}, {{}}, {{}}, '', 'resident', '', 'confirmed', 1, {{}}, {{}}, {{}})",
        meeting, f"{{meeting}}:r@example.org", "r@example.org", "Résidente", "t" * 43, now, now)
    await Subscription.insert(Subscription(council=council, email="s@example.org",
        key=f"{{council}}:s@example.org", status="active", token="s" * 43))
    # Raw: today's OutboxMessage has columns that did not exist then.
    await OutboxMessage.raw(
        "INSERT INTO outbox_message (idempotency_key, kind, recipient, subject, mime, "
        "message_id, council_id, status, attempts, next_attempt_at, last_error, created_at) "
        "VALUES ('old:1', 'test', 's@example.org', 'Avant', {{}}, '<old@localhost>', {{}}, "
        "'sent', 0, {{}}, '', {{}})",
        "Subject: avant\\r\\n\\r\\nx", council, now, now)
    await MeetingChange.insert(MeetingChange(meeting_id=meeting, council_id=council))

asyncio.run(main())
"""

CHECK_NEW = f"""
import asyncio, json
from piccolo.apps.migrations.tables import Migration
from accounts.services import facilitator_for_token, issue_token
from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
from conseils.tables import MeetingChange
from meetings.tables import Council, Meeting, Registration
from notifications.tables import FanoutJob, OutboxMessage, Subscription

async def main():
    counts = {{t._meta.tablename: await t.count() for t in (Council, Facilitator,
        FacilitatorCouncil, ApiToken, Meeting, Registration, Subscription, OutboxMessage,
        MeetingChange, FanoutJob)}}
    apps = sorted({{row["app_name"] for row in await Migration.select(Migration.app_name)}})
    old = await facilitator_for_token({OLD_TOKEN!r})
    new = await facilitator_for_token((await issue_token("anim@ales.fr", {PASSWORD!r})).token)
    feeds = [r["feed_token"] for r in await Registration.select(Registration.feed_token)]
    print(json.dumps({{"counts": counts, "apps": apps, "old": sorted(old.council_ids),
        "new": sorted(new.council_ids), "email": new.email, "feeds": feeds}}))

asyncio.run(main())
"""


def _suite_is_postgres() -> bool:
    return os.environ["DATABASE_URL"].startswith(("postgresql://", "postgres://"))


async def _recreate(url: str, *, create: bool) -> None:
    base, _, name = url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def _in_thread(coroutine: object) -> None:
    """Run on a loop of its own: the suite's event loop is left alone."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's engine, its own."""
    if not _suite_is_postgres():
        yield f"sqlite:///{tmp_path / 'before.sqlite'}"
        return
    suite = os.environ["DATABASE_URL"].split("?")[0]
    url = f"{suite}_upgrade"
    _in_thread(_recreate(url, create=True))
    yield url
    _in_thread(_recreate(url, create=False))


def _run(database_url: str, tmp_path: Path, *command: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "PICCOLO_CONF": "piccolo_conf",
        "SECRET_KEY": "upgrade-test-secret-key",
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_database_from_before_the_relayout_upgrades_with_its_data(
    old_database: str, tmp_path: Path
) -> None:
    _run(old_database, tmp_path, sys.executable, "-c", textwrap.dedent(BUILD_OLD))
    conseils = str(Path(sys.executable).parent / "conseils")
    _run(old_database, tmp_path, conseils, "migrate")
    _run(old_database, tmp_path, conseils, "migrate")  # a second time: nothing to do
    found = json.loads(_run(old_database, tmp_path, sys.executable, "-c", CHECK_NEW))
    assert found["counts"] == {
        "council": 1, "facilitator": 1, "facilitator_council": 1, "api_token": 1,
        "meeting": 1, "registration": 1, "subscription": 1, "outbox_message": 1,
        "meeting_change": 1, "fanout_job": 0,
    }  # fmt: skip
    assert found["apps"] == [
        "accounts",
        "conseils",
        "meetings",
        "minutes",
        "notifications",
        "privacy",
        "proposals",
    ]
    assert found["old"] == found["new"] == [1]  # the old token works, and the password
    assert found["email"] == "anim@ales.fr"
    # A registration from before feed tokens got one of its own.
    [feed] = found["feeds"]
    assert feed is not None and len(feed) == 43 and feed != "t" * 43

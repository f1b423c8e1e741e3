"""The "Journal" page (admins only): who did what, when (Paris time), on which object, newest
first, by pages, filtered by council; and the year's retention in the periodic scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from accounts.management import COMMAND_LINE
from accounts.tables import Facilitator
from conseils import audit
from conseils.db import write_transaction
from conseils.tables import AuditEntry
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from notifications import retention
from tests.support.backoffice_support import signed_in
from tests.support.mail_support import council_id

JOURNAL = "/animation/journal"


async def _actor(email: str) -> FacilitatorView:
    row = await Facilitator.select().where(Facilitator.email == email).first()
    assert row is not None
    return FacilitatorView(row["id"], email, row["display_name"], row["is_admin"], frozenset())


async def test_the_journal_shows_who_what_when_newest_first(
    client: httpx.AsyncClient, admin_auth: dict, tamaris_auth: dict
) -> None:
    tamaris = await council_id("ales-tamaris")
    who = await _actor("anim.tamaris@ales.fr")
    async with write_transaction():
        await audit.record(who, "meeting.publish", "meeting", 7, council_id=tamaris)
        await audit.record(COMMAND_LINE, "facilitator.deactivate", "facilitator", 3)
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    await AuditEntry.update({AuditEntry.at: summer}).where(AuditEntry.object_id == 7)
    await signed_in(client, "admin@ales.fr")
    page = await client.get(JOURNAL)
    assert page.status_code == 200
    text = page.text
    assert text.index("ligne de commande") < text.index("anim.tamaris")  # newest first
    assert "01/07/2026 12:00:00" in text  # Paris summer time
    assert "réunion n° 7" in text and "compte n° 3" in text
    assert "Conseil citoyen" in text  # the council's name
    assert "meeting.publish" in text  # an action of another app, shown as recorded
    assert 'scope="col"' in text and "<caption>" in text


async def test_the_journal_filters_by_council_and_pages(
    client: httpx.AsyncClient, admin_auth: dict
) -> None:
    tamaris = await council_id("ales-tamaris")
    admin = await _actor("admin@ales.fr")
    async with write_transaction():
        for number in range(60):
            await audit.record(
                admin,
                "facilitator.role_grant",
                "facilitator",
                1000 + number,
                council_id=tamaris if number % 2 else None,
            )
    await signed_in(client, "admin@ales.fr")
    first = await client.get(JOURNAL)
    assert "compte n° 1059" in first.text and "compte n° 1009" not in first.text
    assert "page 1 sur 2" in first.text and 'rel="next"' in first.text
    second = await client.get(JOURNAL, params={"page": "2"})
    assert "compte n° 1009" in second.text and "compte n° 1059" not in second.text
    filtered = await client.get(JOURNAL, params={"conseil": str(tamaris)})
    assert "30 actions" in filtered.text and "page 1 sur 1" in filtered.text
    assert "compte n° 1059" in filtered.text and "compte n° 1058" not in filtered.text
    for odd in ({"conseil": "abc"}, {"page": "-1"}, {"page": "99999999999"}):
        assert (await client.get(JOURNAL, params=odd)).status_code == 200


async def test_the_periodic_scan_forgets_lines_older_than_a_year(
    admin_auth: dict, tmp_path: Path
) -> None:
    admin = await _actor("admin@ales.fr")
    async with write_transaction():
        await audit.record(admin, "token.create", "api_token", 1)
        await audit.record(admin, "token.create", "api_token", 2)
    await AuditEntry.update({AuditEntry.at: now_utc() - timedelta(days=366)}).where(
        AuditEntry.object_id == 1
    )
    purged = await retention.purge(now_utc(), timedelta(days=30), tmp_path)
    assert purged.audit_lines == 1
    assert [row["object_id"] for row in await AuditEntry.select()] == [2]

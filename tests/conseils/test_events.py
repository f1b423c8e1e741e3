"""Domain events in two phases, and the database helpers that need a transaction."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from piccolo.engine.sqlite import convert_timestamptz_out
from piccolo.querystring import QueryString

from conseils import db, events
from conseils.errors import Conflict
from conseils.tables import MeetingChange
from meetings.tables import Quartier


@dataclass(frozen=True, slots=True)
class Happened:
    name: str


@pytest.fixture
def recorder() -> dict[str, list]:
    """An in-transaction handler that writes a row, and an after-commit one that records."""
    seen: dict[str, list] = {"inside": [], "after": [], "rows_seen_after": []}

    async def write_a_row(event: Happened) -> None:
        seen["inside"].append(event.name)
        await Quartier.insert(Quartier(name=event.name, slug=event.name, commune="Alès"))

    def after(event: Happened) -> None:
        seen["after"].append(event.name)

    events.handles(Happened)(write_a_row)
    events.after_commit(Happened)(after)
    yield seen
    events.forget(write_a_row)
    events.forget(after)


async def test_in_transaction_handlers_commit_with_the_change(recorder: dict) -> None:
    async with db.write_transaction():
        await events.emit(Happened("tamaris"))
        assert recorder["inside"] == ["tamaris"]
        assert recorder["after"] == []  # not before the commit
    assert recorder["after"] == ["tamaris"]
    assert await Quartier.count().where(Quartier.slug == "tamaris") == 1


async def test_a_rollback_takes_the_handlers_writes_and_runs_no_after_commit(
    recorder: dict,
) -> None:
    with pytest.raises(Conflict):
        async with db.write_transaction():
            await events.emit(Happened("rive-droite"))
            assert await Quartier.count().where(Quartier.slug == "rive-droite") == 1
            raise Conflict("refusé", code="refused")
    assert recorder["inside"] == ["rive-droite"]
    assert recorder["after"] == []
    assert await Quartier.count().where(Quartier.slug == "rive-droite") == 0


async def test_a_failing_handler_rolls_the_change_back(recorder: dict) -> None:
    async def refuse(event: Happened) -> None:
        raise Conflict("un gestionnaire refuse", code="refused")

    events.handles(Happened)(refuse)
    try:
        with pytest.raises(Conflict):
            async with db.write_transaction():
                await events.emit(Happened("anduze"))
    finally:
        events.forget(refuse)
    assert await Quartier.count() == 0
    assert recorder["after"] == []


async def test_registering_twice_handles_once(recorder: dict) -> None:
    handler = events.handlers_of(Happened)[0][0]
    events.handles(Happened)(handler)
    async with db.write_transaction():
        await events.emit(Happened("cevennes"))
    assert recorder["inside"] == ["cevennes"]


async def test_an_event_with_no_handler_is_fine() -> None:
    async with db.write_transaction():
        await events.emit(Happened("nobody-listens"))


async def test_after_commit_callbacks_do_not_undo_the_commit() -> None:
    def broken() -> None:
        raise RuntimeError("a cache that fails")

    async with db.write_transaction():
        db.on_commit(broken)
        await Quartier.insert(Quartier(name="x", slug="kept", commune="Alès"))
    assert await Quartier.count().where(Quartier.slug == "kept") == 1


async def test_helpers_refuse_to_run_outside_a_transaction() -> None:
    with pytest.raises(db.OutsideTransaction):
        await events.emit(Happened("outside"))
    with pytest.raises(db.OutsideTransaction):
        db.locked(Quartier.select())
    with pytest.raises(db.OutsideTransaction):
        db.skip_locked()
    with pytest.raises(db.OutsideTransaction):
        await db.notify("conseils_changes", "1:1")
    with pytest.raises(db.OutsideTransaction):
        db.on_commit(lambda: None)


async def test_write_transactions_do_not_nest() -> None:
    async with db.write_transaction():
        with pytest.raises(RuntimeError, match="do not nest"):
            async with db.write_transaction():
                pass


async def test_ids_in_takes_any_number_of_ids_as_one_parameter() -> None:
    async with db.write_transaction():
        await Quartier.insert(
            *(Quartier(name=f"q{n}", slug=f"q{n}", commune="Alès") for n in range(5))
        )
    rows = await Quartier.select(Quartier.id).order_by(Quartier.id)
    ids = [row["id"] for row in rows]
    clause, argument = db.ids_in("id", [*ids[1:3], *range(100_000, 140_000)])
    found = await Quartier.raw(f"SELECT slug FROM quartier WHERE {clause} ORDER BY id", argument)
    assert [row["slug"] for row in found] == ["q1", "q2"]
    clause, argument = db.ids_in("id", [])
    assert await Quartier.raw(f"SELECT id FROM quartier WHERE {clause}", argument) == []


async def test_insert_rows_skips_conflicts_and_keeps_every_value() -> None:
    """The fast insert (a fan-out's messages): several statements of `chunk` rows, rows
    whose unique key exists skipped, the ids of those inserted returned, values read back
    by Piccolo as they were given (text with quotes and accents, datetimes, nulls)."""
    with pytest.raises(db.OutsideTransaction):
        await db.insert_rows("quartier", ("name", "slug", "commune"), [], returning="id")
    async with db.write_transaction():
        await Quartier.insert(Quartier(name="déjà là", slug="q7", commune="Alès"))
    rows = [(f"Quartier l'{n} « ç »", f"q{n}", "Alès") for n in range(12)]
    rows.append(("encore", "q3", "Alès"))  # twice in the same call: the first one stays
    async with db.write_transaction():
        ids = await db.insert_rows(
            "quartier", ("name", "slug", "commune"), rows, returning="id", chunk=5
        )
        with pytest.raises(ValueError, match="3 values"):
            await db.insert_rows("quartier", ("name", "slug", "commune"), [("x",)], returning="id")
    stored = await Quartier.select().order_by(Quartier.id)
    assert len(ids) == 11 and sorted(ids) == [row["id"] for row in stored[1:]]
    by_slug = {row["slug"]: row["name"] for row in stored}
    assert by_slug["q7"] == "déjà là"
    assert by_slug["q3"] == "Quartier l'3 « ç »"
    assert by_slug["q11"] == "Quartier l'11 « ç »"
    when = datetime(2026, 11, 30, 7, 15, 30, 123456, tzinfo=UTC)
    async with db.write_transaction():
        [change_id] = await db.insert_rows(
            "meeting_change",
            ("meeting_id", "council_id", "seats_only", "changed_at", "kind", "object_id"),
            [(4, 2, True, when, "seats", 4)],
            returning="id",
        )
    row = await MeetingChange.select().where(MeetingChange.id == change_id).first()
    assert (row["changed_at"], row["seats_only"], row["kind"]) == (when, True, "seats")


@pytest.mark.parametrize(
    "stored",
    [
        b"2027-01-09 09:00:00+00:00",
        b"2027-01-09 09:00:00.123456+00:00",
        b"2027-01-09 09:00:00",  # written without an offset (by hand): UTC, as Piccolo says
        b"0999-03-01 00:00:00+00:00",
    ],
)
def test_sqlite_timestamps_read_as_piccolo_reads_them(stored: bytes) -> None:
    """Our faster SQLite converter for TIMESTAMPTZ gives exactly Piccolo's values."""
    ours, theirs = db.sqlite_timestamptz(stored), convert_timestamptz_out(stored)
    assert ours == theirs and ours.tzinfo is theirs.tzinfo is UTC


async def test_sqlite_readers_follow_the_file_the_path_names(tmp_path: Path) -> None:
    """The long-lived read connections are fast, never stale: a backup put in the file's
    place is read at once, and a file gone fails as an outage does, not from the old file."""

    def make(path: Path, value: str) -> None:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE t (v TEXT)")
            connection.execute("INSERT INTO t VALUES (?)", (value,))

    path = tmp_path / "live" / "base.sqlite"
    path.parent.mkdir()
    make(path, "avant")
    engine = db.PooledReadsSQLite(path=str(path))
    read = QueryString("SELECT v FROM t")
    await engine.open_readers(2)
    try:
        assert await engine.run_querystring(read) == [{"v": "avant"}]
        guard = await engine.run_querystring(QueryString("SELECT * FROM pragma_query_only()"))
        assert guard == [{"query_only": 1}]  # a reader refuses any write
        make(tmp_path / "backup.sqlite", "restauré")
        os.replace(tmp_path / "backup.sqlite", path)
        assert await engine.run_querystring(read) == [{"v": "restauré"}]
        path.parent.rename(tmp_path / "away")
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            await engine.run_querystring(read)
    finally:
        await engine.close_readers()

"""Helpers of the personal-data tests: the link as the resident's email carries it, the
data page's feed URL, and a scan of every table and of the maildir for an address."""

from __future__ import annotations

import re
from pathlib import Path

from httpx import AsyncClient
from piccolo.querystring import QueryString

from conseils.db import engine, is_postgres
from conseils.settings import get_settings
from notifications.tables import OutboxMessage
from tests.support.registration_support import message_of, plain_text

_DATA_LINK = re.compile(r"https?://[^\s<>\"]+/mes-donnees/([A-Za-z0-9_-]{43})")
_ADDRESS_FEED = re.compile(
    r"https?://[^\s<>\"]+/agenda/adresse/([A-Za-z0-9_-]{43})/calendrier\.ics"
)


async def data_links(address: str) -> list[str]:
    """The tokens of the personal-data links emailed to `address`, oldest first."""
    rows = (
        await OutboxMessage.select()
        .where((OutboxMessage.kind == "privacy_link") & (OutboxMessage.recipient == address))
        .order_by(OutboxMessage.id)
    )
    return [t for row in rows for t in _DATA_LINK.findall(plain_text(message_of(row)))]


async def ask_link(client: AsyncClient, address: str) -> str:
    """Ask for the link on the form; the token the address then receives."""
    answer = await client.post("/mes-donnees", data={"email": address})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/mes-donnees/demande-envoyee"
    return (await data_links(address.strip().lower()))[-1]


def address_feed_token(page: str) -> str:
    [token] = set(_ADDRESS_FEED.findall(page))
    return token


async def tables_holding(text: str) -> list[str]:
    """Every table of the database with a row where `text` appears (any column, any case)."""
    if is_postgres():
        query = (
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    names = [row["name"] for row in await engine().run_querystring(QueryString(query))]
    assert "registration" in names and "outbox_message" in names
    needle = text.lower()
    found = []
    for name in names:
        rows = await engine().run_querystring(QueryString(f'SELECT * FROM "{name}"'))
        if any(needle in str(value).lower() for row in rows for value in row.values()):
            found.append(name)
    return found


def maildir_files_holding(text: str) -> list[Path]:
    maildir = get_settings().mail.maildir
    needle = text.lower().encode()
    return [
        path
        for folder in ("new", "cur", "tmp")
        if (maildir / folder).is_dir()
        for path in (maildir / folder).iterdir()
        if needle in path.read_bytes().lower()
    ]

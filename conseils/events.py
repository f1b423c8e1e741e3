"""Domain events: how a feature tells the others what happened, without importing them.

A service `emit()`s a frozen dataclass (`MeetingPublished`, `RegistrationConfirmed`, ...)
inside its write transaction. Handlers run in two phases:

- **in the transaction** (`handles`): synchronously, inside the emitting transaction, so
  that what they write (the outbox's emails) commits or rolls back with the change itself;
- **after commit** (`after_commit`): once the transaction has committed, never after a
  rollback: per-process caches, waking the relay. A concurrent request can then never
  re-cache pre-commit data.

Features register their handlers when the application is assembled (`conseils.app`); the
emitting feature never knows who listens. An event with no handler is fine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from conseils import db

E = TypeVar("E")
InTransaction = Callable[[Any], Awaitable[None]]
AfterCommit = Callable[[Any], None]

_in_transaction: defaultdict[type, list[InTransaction]] = defaultdict(list)
_after_commit: defaultdict[type, list[AfterCommit]] = defaultdict(list)


def handles(*event_types: type) -> Callable[[InTransaction], InTransaction]:
    """Register `async handler(event)` to run inside the emitting transaction."""

    def register(handler: InTransaction) -> InTransaction:
        for event_type in event_types:
            if handler not in _in_transaction[event_type]:
                _in_transaction[event_type].append(handler)
        return handler

    return register


def after_commit(*event_types: type) -> Callable[[AfterCommit], AfterCommit]:
    """Register `handler(event)` to run once the emitting transaction has committed."""

    def register(handler: AfterCommit) -> AfterCommit:
        for event_type in event_types:
            if handler not in _after_commit[event_type]:
                _after_commit[event_type].append(handler)
        return handler

    return register


def forget(handler: InTransaction | AfterCommit) -> None:
    """Unregister `handler` from every event type (a test's temporary listener)."""
    for registry in (_in_transaction, _after_commit):
        for handlers in registry.values():
            if handler in handlers:
                handlers.remove(handler)


async def emit(event: object) -> None:
    """Hand `event` to its handlers; inside the write transaction of the change only."""
    db.require_transaction(f"emitting {type(event).__name__}")
    for handler in _in_transaction.get(type(event), ()):
        await handler(event)
    for late in _after_commit.get(type(event), ()):
        db.on_commit(lambda late=late: late(event))


def handlers_of(event_type: type) -> tuple[list[InTransaction], list[AfterCommit]]:
    """Who listens to `event_type` (for the README's table and its test)."""
    return list(_in_transaction.get(event_type, ())), list(_after_commit.get(event_type, ()))

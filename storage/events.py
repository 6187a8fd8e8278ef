"""Inbound events: the record that makes a duplicate delivery a no-op."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import InboundEvent
from storage.sql import connection, prepared

_TABLE: Any = InboundEvent.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "platform",
    "message_id",
    "conversation_id",
    "sender_id",
    "text",
    "platform_time",
    "received_at",
    "outcome",
    "voice",
)


def _record(insert: Callable[[Any], Any]) -> Any:
    return (
        insert(_TABLE)
        .values({name: sa.bindparam(name) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(_TABLE.c.id, _TABLE.c.platform, _TABLE.c.message_id)
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a message by a platform, as recorded."""

    platform: str
    message_id: str
    conversation_id: str
    sender_id: str
    text: str
    platform_time: datetime
    received_at: datetime
    # The text is the platform's transcript of a voice message.
    voice: bool = False


def record_inbound(session: Session, *, deliveries: list[Delivery]) -> dict[tuple[str, str], int]:
    """Record deliveries in one statement; returns the new event id of each (platform,
    message id) seen for the first time. A delivery missing from the answer was recorded
    before (or earlier in the same list): it is a duplicate."""
    if not deliveries:
        return {}
    # Not dataclasses.asdict: it deep-copies every field (4% of the database thread
    # in bench/ingest.py).
    rows = [
        {
            "platform": d.platform,
            "message_id": d.message_id,
            "conversation_id": d.conversation_id,
            "sender_id": d.sender_id,
            "text": d.text,
            "platform_time": d.platform_time,
            "received_at": d.received_at,
            "outcome": "",
            "voice": d.voice,
        }
        for d in deliveries
    ]
    result = connection(session).execute(prepared(session, _record), rows)
    return {(row.platform, row.message_id): int(row.id) for row in result}


_SET_OUTCOME = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("event_id"))
    .values(command=sa.bindparam("command"), outcome=sa.bindparam("outcome"))
)


def set_outcomes(session: Session, *, outcomes: list[tuple[int, str | None, str]]) -> None:
    """Note which command each event ran and how it ended, in one round trip."""
    if outcomes:
        connection(session).execute(
            _SET_OUTCOME,
            [{"event_id": e, "command": c, "outcome": o} for e, c, o in outcomes],
        )


_FORGET_TEXT = (
    sa.update(_TABLE)
    .where(_TABLE.c.id.in_(sa.bindparam("event_ids", expanding=True)))
    .values(text="")
)


def forget_texts(session: Session, *, event_ids: list[int]) -> None:
    """Keep no text of these events, only that they came (votes in anonymous polls)."""
    if event_ids:
        connection(session).execute(_FORGET_TEXT, {"event_ids": event_ids})

"""Inbound events: the record that makes a duplicate delivery a no-op."""

from __future__ import annotations

from collections.abc import Callable
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
)


def _record(insert: Callable[[Any], Any]) -> Any:
    return (
        insert(_TABLE)
        .values({name: sa.bindparam(name) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(_TABLE.c.id)
    )


def record_inbound(
    session: Session,
    *,
    platform: str,
    message_id: str,
    conversation_id: str,
    sender_id: str,
    text: str,
    platform_time: datetime,
    received_at: datetime,
) -> int | None:
    """Record a delivery; None when this (platform, message id) was recorded before."""
    result = connection(session).execute(
        prepared(session, _record),
        {
            "platform": platform,
            "message_id": message_id,
            "conversation_id": conversation_id,
            "sender_id": sender_id,
            "text": text,
            "platform_time": platform_time,
            "received_at": received_at,
            "outcome": "",
        },
    )
    return result.scalar_one_or_none()


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

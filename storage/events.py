"""Inbound events: the record that makes a duplicate delivery a no-op."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import InboundEvent
from storage.sql import insert


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
    statement = (
        insert(session, InboundEvent)
        .values(
            platform=platform,
            message_id=message_id,
            conversation_id=conversation_id,
            sender_id=sender_id,
            text=text,
            platform_time=platform_time,
            received_at=received_at,
            outcome="",
        )
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(InboundEvent.id)
    )
    return session.execute(statement).scalar_one_or_none()


def set_outcomes(session: Session, *, outcomes: list[tuple[int, str | None, str]]) -> None:
    """Note which command each event ran and how it ended, in one round trip."""
    if not outcomes:
        return
    table = InboundEvent.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("event_id")),
        [{"event_id": e, "command": c, "outcome": o} for e, c, o in outcomes],
    )

"""Opinions, suggestions and seconds."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.consultations import next_number
from storage.enums import OpinionKind
from storage.models import Opinion, Second
from storage.sql import insert


def add_opinion(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    kind: OpinionKind,
    text: str,
    message_id: str,
    now: datetime,
) -> Opinion:
    """Keep an opinion under the consultation's next number."""
    number = next_number(session, consultation_id=consultation_id, counter="opinion_seq")
    opinion = Opinion(
        consultation_id=consultation_id,
        number=number,
        member_id=member_id,
        kind=kind,
        text=text,
        message_id=message_id,
        created_at=now,
    )
    session.add(opinion)
    session.flush()
    return opinion


def get_opinions(
    session: Session, *, consultation_id: int, numbers: list[int]
) -> dict[int, Opinion]:
    """The opinions with these numbers in the consultation, by number."""
    rows = session.exec(
        select(Opinion).where(
            Opinion.consultation_id == consultation_id, col(Opinion.number).in_(numbers)
        )
    )
    return {row.number: row for row in rows}


def retract_opinion(session: Session, *, opinion: Opinion, now: datetime) -> None:
    """Mark an opinion withdrawn; it leaves the minutes but stays on record."""
    opinion.retracted_at = now
    session.add(opinion)
    session.flush()


def add_second(session: Session, *, opinion_id: int, member_id: int, now: datetime) -> bool:
    """Second an opinion; False when this member had already seconded it."""
    statement = (
        insert(session, Second)
        .values(opinion_id=opinion_id, member_id=member_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["opinion_id", "member_id"])
        .returning(Second.id)
    )
    return session.execute(statement).first() is not None


def count_seconds(session: Session, *, opinion_ids: list[int]) -> dict[int, int]:
    """How many members seconded each opinion."""
    if not opinion_ids:
        return {}
    rows = session.exec(
        select(Second.opinion_id, func.count())
        .where(col(Second.opinion_id).in_(opinion_ids))
        .group_by(col(Second.opinion_id))
    )
    return dict(rows.all())

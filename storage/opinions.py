"""Opinions, suggestions and seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.consultations import next_number, next_number_statement
from storage.enums import OpinionKind
from storage.models import Opinion, Second, StanceMark
from storage.sql import connection, insert, prepared


@dataclass(frozen=True, slots=True)
class NewOpinion:
    """What the caller needs of an opinion just kept."""

    id: int
    number: int


_OPINIONS: Any = Opinion.__table__  # type: ignore[attr-defined]
_SECONDS: Any = Second.__table__  # type: ignore[attr-defined]
_FIELDS = ("consultation_id", "member_id", "kind", "text", "message_id", "created_at")
_ADD_OPINION = (
    sa.insert(_OPINIONS)
    .values({name: sa.bindparam(name) for name in ("number", *_FIELDS)})
    .returning(_OPINIONS.c.id)
)


def _add_opinion_numbered() -> Any:
    """PostgreSQL: take the number and keep the opinion in one statement (a data-modifying
    WITH, which SQLite lacks): one round trip fewer, and the consultation's row stays
    locked for a shorter part of the transaction."""
    number = next_number_statement("opinion_seq").cte("number")
    values = sa.select(
        number.c.opinion_seq,
        *(sa.bindparam(name, type_=_OPINIONS.c[name].type) for name in _FIELDS),
    )
    return (
        sa.insert(_OPINIONS)
        .from_select(["number", *_FIELDS], values)
        .returning(_OPINIONS.c.id, _OPINIONS.c.number)
    )


_ADD_OPINION_NUMBERED = _add_opinion_numbered()


def add_opinion(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    kind: OpinionKind,
    text: str,
    message_id: str,
    now: datetime,
) -> NewOpinion:
    """Keep an opinion under the consultation's next number."""
    values = {
        "consultation_id": consultation_id,
        "member_id": member_id,
        "kind": kind,
        "text": text,
        "message_id": message_id,
        "created_at": now,
    }
    conn = connection(session)
    if conn.dialect.name == "postgresql":
        kept = conn.execute(_ADD_OPINION_NUMBERED, values).one()
        return NewOpinion(id=kept.id, number=kept.number)
    number = next_number(session, consultation_id=consultation_id, counter="opinion_seq")
    result = conn.execute(_ADD_OPINION, {**values, "number": number})
    return NewOpinion(id=int(result.scalar_one()), number=number)


_GET_OPINIONS = select(Opinion).where(
    Opinion.consultation_id == sa.bindparam("consultation_id"),
    col(Opinion.number).in_(sa.bindparam("numbers", expanding=True)),
)


def get_opinions(
    session: Session, *, consultation_id: int, numbers: list[int]
) -> dict[int, Opinion]:
    """The opinions with these numbers in the consultation, by number."""
    rows = session.exec(
        _GET_OPINIONS, params={"consultation_id": consultation_id, "numbers": numbers}
    )
    return {row.number: row for row in rows}


def retract_opinion(session: Session, *, opinion: Opinion, now: datetime) -> None:
    """Mark an opinion withdrawn; it leaves the minutes but stays on record."""
    opinion.retracted_at = now
    session.add(opinion)
    session.flush()


def _add_second(insert: Callable[[Any], Any]) -> Any:
    return (
        insert(_SECONDS)
        .values({name: sa.bindparam(name) for name in ("opinion_id", "member_id", "created_at")})
        .on_conflict_do_nothing(index_elements=["opinion_id", "member_id"])
        .returning(_SECONDS.c.id)
    )


def add_second(session: Session, *, opinion_id: int, member_id: int, now: datetime) -> bool:
    """Second an opinion; False when this member had already seconded it."""
    result = connection(session).execute(
        prepared(session, _add_second),
        {"opinion_id": opinion_id, "member_id": member_id, "created_at": now},
    )
    return result.first() is not None


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


def stance_of(session: Session, *, opinion_id: int, member_id: int) -> int | None:
    """The member's current mark on the statement (1, -1 or 0), or None."""
    return session.exec(
        select(StanceMark.value).where(
            StanceMark.opinion_id == opinion_id, StanceMark.member_id == member_id
        )
    ).first()


def record_stance(
    session: Session, *, opinion_id: int, member_id: int, value: int, cast_at: datetime
) -> bool:
    """Keep the member's mark on a statement, replacing an earlier one; False when a later
    mark already stands (so redelivered or out-of-order messages never undo a newer one).

    The unique (statement, member) key makes the write an upsert: exactly one row whatever
    the number of deliveries or processes.
    """
    table: Any = StanceMark.__table__  # type: ignore[attr-defined]
    statement = insert(session, table).values(
        opinion_id=opinion_id, member_id=member_id, value=value, cast_at=cast_at
    )
    statement = statement.on_conflict_do_update(
        index_elements=["opinion_id", "member_id"],
        set_={"value": statement.excluded.value, "cast_at": statement.excluded.cast_at},
        where=table.c.cast_at <= statement.excluded.cast_at,
    ).returning(table.c.id)
    return session.execute(statement).first() is not None

"""Opinions, suggestions and seconds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.consultations import next_number
from storage.enums import OpinionKind
from storage.models import Opinion, Second, StanceMark
from storage.sql import connection, flush_behind, insert, pending, prepared, write_behind


@dataclass(slots=True)
class KeptOpinion:
    """An opinion kept in this transaction: numbered and written with the others of the
    transaction (see `keep_opinion`), so its number is known only once they are."""

    values: dict[str, Any]
    _number: int | None = None

    @property
    def number(self) -> int:
        """The opinion's #number in its consultation."""
        if self._number is None:
            raise RuntimeError("the opinion is numbered when the transaction's rows are written")
        return self._number

    def numbered(self, number: int) -> dict[str, Any]:
        """Take `number`; the row to write."""
        self._number = number
        return {**self.values, "number": number}


_OPINIONS: Any = Opinion.__table__  # type: ignore[attr-defined]
_SECONDS: Any = Second.__table__  # type: ignore[attr-defined]
_ADD_OPINIONS = sa.insert(_OPINIONS)


def keep_opinion(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    kind: OpinionKind,
    text: str,
    message_id: str,
    now: datetime,
) -> KeptOpinion:
    """Keep an opinion under the consultation's next number.

    The number is taken, and the row written, with the transaction's other opinions just
    before it commits (or before anything reads opinions back): one statement per
    consultation takes all of a batch's numbers. The consultation's row is locked from
    that statement to the commit, so another process numbering in the same group waits
    only for the end of this batch, not for all of it (the wait that kept two
    processes from outrunning one).
    """
    waiting = write_behind(session, "opinions", _write_opinions)
    kept = KeptOpinion(
        {
            "consultation_id": consultation_id,
            "member_id": member_id,
            "kind": kind,
            "text": text,
            "message_id": message_id,
            "created_at": now,
        }
    )
    # Keyed by consultation, then in the order kept: numbers follow the order of the
    # messages, and consultations are locked in id order (no deadlock between batches).
    waiting[(consultation_id, len(waiting))] = kept
    return kept


def _write_opinions(session: Session, kept: list[KeptOpinion]) -> None:
    rows: list[dict[str, Any]] = []
    for consultation_id, same in itertools.groupby(kept, lambda k: k.values["consultation_id"]):
        opinions = list(same)
        last = next_number(
            session, consultation_id=consultation_id, counter="opinion_seq", count=len(opinions)
        )
        first = last - len(opinions) + 1
        rows.extend(o.numbered(n) for n, o in enumerate(opinions, start=first))
    connection(session).execute(_ADD_OPINIONS, rows)


_GET_OPINIONS = select(Opinion).where(
    Opinion.consultation_id == sa.bindparam("consultation_id"),
    col(Opinion.number).in_(sa.bindparam("numbers", expanding=True)),
)


def get_opinions(
    session: Session, *, consultation_id: int, numbers: list[int]
) -> dict[int, Opinion]:
    """The opinions with these numbers in the consultation, by number."""
    params = {"consultation_id": consultation_id, "numbers": numbers}
    found = {row.number: row for row in session.exec(_GET_OPINIONS, params=params)}
    if len(found) < len(set(numbers)) and pending(session, "opinions"):
        # One kept earlier in this transaction may be among them: number it and look again.
        flush_behind(session)
        found = {row.number: row for row in session.exec(_GET_OPINIONS, params=params)}
    return found


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

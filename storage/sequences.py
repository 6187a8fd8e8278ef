"""Numbering for the things of the seven steps: per consultation (proposals, research notes,
minutes) or per group (referrals, which outlive their consultation)."""

from __future__ import annotations

from typing import Literal

from sqlmodel import Session

from storage.sql import insert
from storage.step_tables import GroupCounter, SequenceCounter

Sequence = Literal["topic", "research", "minutes"]
GroupSequence = Literal["referral", "signoff", "document"]


def next_in_sequence(session: Session, *, consultation_id: int, name: Sequence) -> int:
    """The next #number in the consultation's sequence `name`; atomic across processes."""
    return _bump(
        session, SequenceCounter, owner="consultation_id", owner_id=consultation_id, name=name
    )


def next_in_group(session: Session, *, group_id: int, name: GroupSequence) -> int:
    """The next #number in the group's sequence `name`; atomic across processes."""
    return _bump(session, GroupCounter, owner="group_id", owner_id=group_id, name=name)


def _bump(
    session: Session,
    table: type[SequenceCounter] | type[GroupCounter],
    *,
    owner: str,
    owner_id: int,
    name: str,
) -> int:
    """Insert the counter at 1 or add one to it, in one statement (the row lock of ON
    CONFLICT keeps two processes from taking the same number)."""
    statement = insert(session, table).values({owner: owner_id, "name": name, "value": 1})
    statement = statement.on_conflict_do_update(
        index_elements=[owner, "name"], set_={"value": table.value + 1}
    ).returning(table.value)
    return int(session.execute(statement).scalar_one())

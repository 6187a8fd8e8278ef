"""Numbering for the things of the seven steps: per consultation (proposals, research notes,
minutes) or per group (referrals, which outlive their consultation)."""

from __future__ import annotations

from typing import Literal

from sqlmodel import Session

from storage.sql import insert
from storage.step_tables import GroupCounter, SequenceCounter

Sequence = Literal["topic", "research", "minutes"]
GroupSequence = Literal["referral"]


def next_in_sequence(session: Session, *, consultation_id: int, name: Sequence) -> int:
    """The next #number in the consultation's sequence `name`; atomic across processes."""
    statement = insert(session, SequenceCounter).values(
        consultation_id=consultation_id, name=name, value=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=["consultation_id", "name"],
        set_={"value": SequenceCounter.value + 1},
    ).returning(SequenceCounter.value)
    return int(session.execute(statement).scalar_one())


def next_in_group(session: Session, *, group_id: int, name: GroupSequence) -> int:
    """The next #number in the group's sequence `name`; atomic across processes."""
    statement = insert(session, GroupCounter).values(group_id=group_id, name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["group_id", "name"],
        set_={"value": GroupCounter.value + 1},
    ).returning(GroupCounter.value)
    return int(session.execute(statement).scalar_one())

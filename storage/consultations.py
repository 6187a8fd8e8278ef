"""Consultations, their stages and per-consultation numbering."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.enums import OpinionKind, PollStatus, Stage
from storage.models import Consultation, Opinion, Poll, StageChange
from storage.sql import chunks, connection, flush_behind, memo


def current_consultation(session: Session, *, group_id: int) -> Consultation | None:
    """The group's open consultation, if any (memoised per transaction: every message of a
    batch asks, and opening or closing one drops the memo)."""
    prefetch_current(session, group_ids={group_id})
    consultation: Consultation | None = memo(session, "consultation")[group_id]
    return consultation


def last_closed_consultation(session: Session, *, group_id: int) -> Consultation | None:
    """The group's most recently closed consultation, if any."""
    return session.exec(
        select(Consultation)
        .where(Consultation.group_id == group_id, col(Consultation.closed_at).is_not(None))
        .order_by(col(Consultation.closed_at).desc(), col(Consultation.id).desc())
    ).first()


def prefetch_current(session: Session, *, group_ids: set[int]) -> None:
    """Look up the open consultation of every group in one query and memoise them all: a
    batch of 30 messages from 15 groups then costs one query, not 15."""
    known = memo(session, "consultation")
    wanted = group_ids - known.keys()
    if not wanted:
        return
    known.update(dict.fromkeys(wanted))
    for consultation in session.exec(_OPEN_IN_GROUPS, params={"group_ids": list(wanted)}):
        if known[consultation.group_id] is None:
            known[consultation.group_id] = consultation


_OPEN_IN_GROUPS = select(Consultation).where(
    col(Consultation.group_id).in_(sa.bindparam("group_ids", expanding=True)),
    col(Consultation.closed_at).is_(None),
)


def get_consultation(session: Session, *, consultation_id: int) -> Consultation:
    """A consultation by id."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise LookupError(f"no consultation {consultation_id}")
    return consultation


def open_consultation(
    session: Session, *, group_id: int, member_id: int, topic: str, stage: Stage, now: datetime
) -> Consultation:
    """Open a consultation in `stage`, keeping the first entry of its stage history."""
    memo(session, "consultation").pop(group_id, None)
    consultation = Consultation(
        group_id=group_id, topic=topic, stage=stage, opened_by=member_id, opened_at=now
    )
    session.add(consultation)
    session.flush()
    assert consultation.id is not None
    session.add(
        StageChange(
            consultation_id=consultation.id,
            from_stage=None,
            to_stage=stage,
            changed_by=member_id,
            changed_at=now,
        )
    )
    session.flush()
    return consultation


def close_consultation(
    session: Session, *, consultation: Consultation, member_id: int, now: datetime
) -> None:
    """Close the consultation; its records stay."""
    memo(session, "consultation").pop(consultation.group_id, None)
    consultation.closed_at = now
    consultation.closed_by = member_id
    session.add(consultation)
    session.flush()


def next_number(
    session: Session,
    *,
    consultation_id: int,
    counter: Literal["opinion_seq", "poll_seq"],
    count: int = 1,
) -> int:
    """Take the next `count` #numbers of opinions or polls and return the last; atomic (the
    consultation's row stays locked to the commit), so processes never hand out one twice."""
    params = {"consultation_id": consultation_id, "count": count}
    return int(connection(session).execute(_NEXT_NUMBER[counter], params).scalar_one())


_CONSULTATIONS: Any = Consultation.__table__  # type: ignore[attr-defined]
_NEXT_NUMBER = {
    counter: sa.update(_CONSULTATIONS)
    .where(_CONSULTATIONS.c.id == sa.bindparam("consultation_id"))
    .values({counter: _CONSULTATIONS.c[counter] + sa.bindparam("count")})
    .returning(_CONSULTATIONS.c[counter])
    for counter in ("opinion_seq", "poll_seq")
}


@dataclass(frozen=True, slots=True)
class ConsultationCounts:
    """How much a consultation has gathered so far."""

    opinions: int
    suggestions: int
    remarks: int
    participants: int
    open_polls: int
    polls: int


def consultation_counts(session: Session, *, consultation_id: int) -> ConsultationCounts:
    """Counts for the status line of a consultation."""
    return counts_of(session, [consultation_id])[consultation_id]


def counts_of(session: Session, consultation_ids: Sequence[int]) -> dict[int, ConsultationCounts]:
    """What each consultation has gathered, by id: a few queries for all of them."""
    flush_behind(session)  # opinions kept earlier in this transaction count too
    by_kind: defaultdict[int, dict[OpinionKind, int]] = defaultdict(dict)
    participants: dict[int, int] = {}
    polls: defaultdict[int, dict[PollStatus, int]] = defaultdict(dict)
    ids = list(dict.fromkeys(consultation_ids))
    for chunk in chunks(ids):
        live = (col(Opinion.consultation_id).in_(chunk), col(Opinion.retracted_at).is_(None))
        for cid, kind, count in session.exec(
            select(Opinion.consultation_id, Opinion.kind, func.count())
            .where(*live)
            .group_by(col(Opinion.consultation_id), col(Opinion.kind))
        ):
            by_kind[cid][OpinionKind(kind)] = count
        participants.update(
            session.exec(
                select(Opinion.consultation_id, func.count(func.distinct(Opinion.member_id)))
                .where(*live)
                .group_by(col(Opinion.consultation_id))
            ).all()
        )
        for cid, status, count in session.exec(
            select(Poll.consultation_id, Poll.status, func.count())
            .where(col(Poll.consultation_id).in_(chunk))
            .group_by(col(Poll.consultation_id), col(Poll.status))
        ):
            polls[cid][PollStatus(status)] = count
    return {
        cid: ConsultationCounts(
            opinions=by_kind[cid].get(OpinionKind.OPINION, 0),
            suggestions=by_kind[cid].get(OpinionKind.SUGGESTION, 0),
            remarks=by_kind[cid].get(OpinionKind.REMARK, 0),
            participants=participants.get(cid, 0),
            open_polls=polls[cid].get(PollStatus.OPEN, 0),
            polls=sum(polls[cid].values()),
        )
        for cid in ids
    }


def change_stage(
    session: Session, *, consultation: Consultation, to_stage: Stage, member_id: int, now: datetime
) -> StageChange:
    """Move the consultation to `to_stage`, keeping who moved it and when."""
    assert consultation.id is not None
    change = StageChange(
        consultation_id=consultation.id,
        from_stage=consultation.stage,
        to_stage=to_stage,
        changed_by=member_id,
        changed_at=now,
    )
    consultation.stage = to_stage
    session.add(consultation)
    session.add(change)
    session.flush()
    return change


def stage_history(session: Session, *, consultation_id: int) -> list[StageChange]:
    """Every stage the consultation entered, oldest first."""
    return list(
        session.exec(
            select(StageChange)
            .where(StageChange.consultation_id == consultation_id)
            .order_by(col(StageChange.id))
        )
    )


def set_topic(session: Session, *, consultation: Consultation, topic: str) -> None:
    """Give the consultation its topic (chosen in 选题定题)."""
    consultation.topic = topic
    session.add(consultation)
    session.flush()

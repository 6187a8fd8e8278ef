"""Stances on statements as cards deal them: the /表态 digests, each statement's marks, and
the statement a member is dealt next (Pol.is: the fewest-marked one they have not marked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.enums import OpinionKind, StanceValue
from storage.models import Member, Opinion, StanceDigest, StanceMark
from storage.sql import memo

# What a card deals: opinions and suggestions. Plain remarks (发言) can be marked by
# number, but many are chatter ("同意楼上"), which members should not be asked to judge.
DEALT_KINDS = (OpinionKind.OPINION, OpinionKind.SUGGESTION)


@dataclass(frozen=True, slots=True)
class StatementMarks:
    """A statement as a stance card shows it: its words, its author and its marks so far."""

    opinion_id: int
    number: int
    kind: OpinionKind
    text: str
    author_id: int
    author: str
    retracted: bool
    agree: int
    disagree: int
    passed: int


def statement_marks(session: Session, *, opinion_ids: list[int]) -> dict[int, StatementMarks]:
    """The statements with these ids (those that exist), with their authors and marks."""
    if not opinion_ids:
        return {}
    counts: dict[tuple[int, int], int] = {
        (opinion_id, value): count
        for opinion_id, value, count in session.exec(
            select(StanceMark.opinion_id, StanceMark.value, func.count())
            .where(col(StanceMark.opinion_id).in_(opinion_ids))
            .group_by(col(StanceMark.opinion_id), col(StanceMark.value))
        )
    }
    rows = session.exec(
        select(Opinion, Member.name)
        .join(Member, col(Member.id) == col(Opinion.member_id))
        .where(col(Opinion.id).in_(opinion_ids))
    )
    found = {}
    for opinion, author in rows:
        assert opinion.id is not None
        found[opinion.id] = StatementMarks(
            opinion_id=opinion.id,
            number=opinion.number,
            kind=opinion.kind,
            text=opinion.text,
            author_id=opinion.member_id,
            author=author,
            retracted=opinion.retracted_at is not None,
            agree=counts.get((opinion.id, StanceValue.AGREE), 0),
            disagree=counts.get((opinion.id, StanceValue.DISAGREE), 0),
            passed=counts.get((opinion.id, StanceValue.PASS), 0),
        )
    return found


def _dealt(consultation_id: int) -> sa.ColumnElement[bool]:
    """The consultation's live opinions and suggestions."""
    return sa.and_(
        col(Opinion.consultation_id) == consultation_id,
        col(Opinion.retracted_at).is_(None),
        col(Opinion.kind).in_(DEALT_KINDS),
    )


def _mark_counts(consultation_id: int) -> sa.Subquery:
    return (
        select(StanceMark.opinion_id, func.count().label("marks"))
        .join(Opinion, col(Opinion.id) == col(StanceMark.opinion_id))
        .where(col(Opinion.consultation_id) == consultation_id)
        .group_by(col(StanceMark.opinion_id))
        .subquery()
    )


def fewest_marked(session: Session, *, consultation_id: int, limit: int) -> list[int]:
    """Ids of the consultation's live opinions and suggestions with the fewest marks, the
    older first among equals (they have waited longest)."""
    marks = _mark_counts(consultation_id)
    rows = session.exec(
        select(Opinion.id)
        .outerjoin(marks, marks.c.opinion_id == col(Opinion.id))
        .where(_dealt(consultation_id))
        .order_by(func.coalesce(marks.c.marks, 0), col(Opinion.number))
        .limit(limit)
    )
    return [opinion_id for opinion_id in rows if opinion_id is not None]


def next_unmarked(
    session: Session, *, consultation_id: int, member_id: int, first: list[int]
) -> int | None:
    """The id of the statement to deal `member_id` next: the first of `first` they may
    mark and have not, else the consultation's fewest-marked such statement; None when
    they have marked every statement that is not their own."""
    mine = select(StanceMark.id).where(
        col(StanceMark.opinion_id) == col(Opinion.id), col(StanceMark.member_id) == member_id
    )
    open_to_them = sa.and_(
        _dealt(consultation_id), col(Opinion.member_id) != member_id, ~sa.exists(mine)
    )
    if first:
        candidates = set(
            session.exec(select(Opinion.id).where(open_to_them, col(Opinion.id).in_(first)))
        )
        for opinion_id in first:
            if opinion_id in candidates:
                return opinion_id
    marks = _mark_counts(consultation_id)
    return session.exec(
        select(Opinion.id)
        .outerjoin(marks, marks.c.opinion_id == col(Opinion.id))
        .where(open_to_them)
        .order_by(func.coalesce(marks.c.marks, 0), col(Opinion.number))
        .limit(1)
    ).first()


def add_digest(
    session: Session, *, consultation_id: int, opinion_ids: list[int], member_id: int, now: datetime
) -> StanceDigest:
    """Keep a /表态 card's statements, in the order it deals them."""
    digest = StanceDigest(
        consultation_id=consultation_id,
        opinion_ids=opinion_ids,
        posted_by=member_id,
        posted_at=now,
    )
    session.add(digest)
    session.flush()
    memo(session, "stance_digests").pop(consultation_id, None)
    return digest


def get_digest(session: Session, *, digest_id: int) -> StanceDigest | None:
    """A /表态 card's record."""
    return session.get(StanceDigest, digest_id)


def latest_digest(session: Session, *, consultation_id: int) -> StanceDigest | None:
    """The consultation's most recent /表态 card."""
    return session.exec(
        select(StanceDigest)
        .where(col(StanceDigest.consultation_id) == consultation_id)
        .order_by(col(StanceDigest.id).desc())
        .limit(1)
    ).first()


def digests_dealing(session: Session, *, consultation_id: int, opinion_id: int) -> list[int]:
    """Ids of the consultation's /表态 cards that list the statement (their counts change
    with its marks). A consultation has a handful of them: they are read whole, once per
    transaction (a burst of 200 marks asks 200 times)."""
    known = memo(session, "stance_digests")
    listed = known.get(consultation_id)
    if listed is None:
        listed = known[consultation_id] = list(
            session.exec(
                select(StanceDigest.id, StanceDigest.opinion_ids).where(
                    col(StanceDigest.consultation_id) == consultation_id
                )
            )
        )
    return [digest_id for digest_id, ids in listed if opinion_id in ids]

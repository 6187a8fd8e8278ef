"""Members' ratings of replied referrals (结果评价): one per member per referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.sql import insert
from storage.step_tables import ReferralRating


def record_rating(
    session: Session,
    *,
    referral_id: int,
    member_id: int,
    handling: int,
    result: int,
    comment: str,
    rated_at: datetime,
) -> bool:
    """Keep a rating, replacing the member's earlier one; False if a later one already stands.

    As with ballots, the unique (referral, member) key makes a redelivery a no-op and the
    platform time decides which of two ratings is the member's last word.
    """
    statement = insert(session, ReferralRating).values(
        referral_id=referral_id,
        member_id=member_id,
        handling=handling,
        result=result,
        comment=comment,
        rated_at=rated_at,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["referral_id", "member_id"],
        set_={
            "handling": statement.excluded.handling,
            "result": statement.excluded.result,
            "comment": statement.excluded.comment,
            "rated_at": statement.excluded.rated_at,
        },
        where=col(ReferralRating.rated_at) <= statement.excluded.rated_at,
    ).returning(ReferralRating.id)
    return session.execute(statement).first() is not None


def has_rated(session: Session, *, referral_id: int, member_id: int) -> bool:
    """Whether the member rated the referral before."""
    return (
        session.exec(
            select(ReferralRating.id).where(
                ReferralRating.referral_id == referral_id, ReferralRating.member_id == member_id
            )
        ).first()
        is not None
    )


@dataclass(frozen=True, slots=True)
class RatingAverage:
    """How many members rated, and their average scores for handling and result."""

    raters: int
    handling: float
    result: float


def rating_averages(session: Session, *, referral_ids: list[int]) -> dict[int, RatingAverage]:
    """Averages per referral (referrals nobody rated are left out)."""
    if not referral_ids:
        return {}
    rows = session.exec(
        select(
            ReferralRating.referral_id,
            func.count(),
            func.avg(ReferralRating.handling),
            func.avg(ReferralRating.result),
        )
        .where(col(ReferralRating.referral_id).in_(referral_ids))
        .group_by(col(ReferralRating.referral_id))
    )
    return {
        referral_id: RatingAverage(int(count), float(handling), float(result))
        for referral_id, count, handling, result in rows
    }

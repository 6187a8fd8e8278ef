"""The figures of a year's consultations, as Zhejiang counts them: sessions held, members
taking part, suggestions made, referred and adopted, replies on time, ratings, leaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.attendance import consultation_attendance
from storage.enums import OpinionKind, ReplyClass, Stage
from storage.models import Consultation, Opinion
from storage.step_tables import Referral, ReferralItem, ReferralRating, ReferralReply


@dataclass(frozen=True, slots=True)
class Statistics:
    """The figures; rates and averages are None when there is nothing to divide."""

    year: int | None
    scope: str
    consultations: int
    open_consultations: int
    # Open consultations by their stage now, closed ones by the stage they ended in.
    by_stage: dict[Stage, int]
    participants: int
    participations: int
    opinions: int
    suggestions: int
    referrals: int
    referred_items: int
    replies_by_class: dict[ReplyClass, int]
    awaiting_reply: int
    # Share of answered referrals whose answer is A, B or C (see docs/seven-steps.md).
    adoption_rate: float | None
    replied_late: int
    overdue_unanswered: int
    ratings: int
    average_handling: float | None
    average_result: float | None
    leaders_present: int

    @property
    def overdue(self) -> int:
        """Referrals that missed their deadline: answered late or still unanswered."""
        return self.replied_late + self.overdue_unanswered

    @property
    def replies(self) -> int:
        """Referrals with a reply in force."""
        return sum(self.replies_by_class.values())


def compute_statistics(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    year: int | None = None,
    group_id: int | None = None,
    scope: str = "全部群",
) -> Statistics:
    """Figures over the consultations opened in `year` (local time; all years if None),
    in one group or in all; "overdue" is judged at `now`."""
    statement = select(Consultation).order_by(col(Consultation.id))
    if year is not None:
        start = datetime(year, 1, 1, tzinfo=zone)
        end = datetime(year + 1, 1, 1, tzinfo=zone)
        statement = statement.where(
            col(Consultation.opened_at) >= start, col(Consultation.opened_at) < end
        )
    if group_id is not None:
        statement = statement.where(Consultation.group_id == group_id)
    consultations = list(session.exec(statement))
    ids = [c.id for c in consultations if c.id is not None]

    by_stage = dict.fromkeys(Stage, 0)
    for consultation in consultations:
        by_stage[consultation.stage] += 1
    people: set[int] = set()
    participations = leaders = 0
    for consultation_id in ids:
        attendance = consultation_attendance(session, consultation_id=consultation_id)
        people |= {p.member_id for p in attendance.participants}
        participations += len(attendance.participants)
        leaders += len(attendance.guests)

    kinds = dict(
        session.exec(
            select(Opinion.kind, func.count())
            .where(col(Opinion.consultation_id).in_(ids), col(Opinion.retracted_at).is_(None))
            .group_by(col(Opinion.kind))
        ).all()
    )
    referrals = list(session.exec(select(Referral).where(col(Referral.consultation_id).in_(ids))))
    referral_ids = [r.id for r in referrals if r.id is not None]
    items = session.exec(
        select(func.count()).where(col(ReferralItem.referral_id).in_(referral_ids))
    ).one()
    standing = {
        reply.referral_id: reply
        for reply in session.exec(
            select(ReferralReply).where(
                col(ReferralReply.referral_id).in_(referral_ids),
                col(ReferralReply.reopened_at).is_(None),
            )
        )
    }
    by_class = dict.fromkeys(ReplyClass, 0)
    for reply in standing.values():
        by_class[reply.reply_class] += 1
    answered = sum(by_class.values())
    adopted = sum(count for cls, count in by_class.items() if cls.adopted)
    unanswered = [r for r in referrals if r.id not in standing]
    count, handling, result = session.exec(
        select(
            func.count(), func.avg(ReferralRating.handling), func.avg(ReferralRating.result)
        ).where(col(ReferralRating.referral_id).in_(referral_ids))
    ).one()
    return Statistics(
        year=year,
        scope=scope,
        consultations=len(consultations),
        open_consultations=sum(1 for c in consultations if c.closed_at is None),
        by_stage=by_stage,
        participants=len(people),
        participations=participations,
        opinions=kinds.get(OpinionKind.OPINION, 0),
        suggestions=kinds.get(OpinionKind.SUGGESTION, 0),
        referrals=len(referrals),
        referred_items=items,
        replies_by_class=by_class,
        awaiting_reply=len(unanswered),
        adoption_rate=adopted / answered if answered else None,
        replied_late=sum(1 for reply in standing.values() if not reply.on_time),
        # Overdue once the last day to answer (a local date) has passed.
        overdue_unanswered=sum(1 for r in unanswered if r.due_on < now.astimezone(zone).date()),
        ratings=int(count),
        average_handling=float(handling) if handling is not None else None,
        average_result=float(result) if result is not None else None,
        leaders_present=leaders,
    )

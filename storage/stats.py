"""The figures of a year's consultations, as Zhejiang counts them: sessions held, members
taking part, suggestions made, referred and adopted, replies on time, ratings, leaders,
leaders' 签批 and the documents that came out of them.

Every figure is first counted per consultation (`consultation_figures`) and then added up,
so a group's, a unit's and the province's figures are sums of the same records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.attendance import attendances
from storage.enums import OpinionKind, ReplyClass, Stage
from storage.models import Consultation, Opinion
from storage.step_tables import (
    LeaderSignoff,
    PolicyDocument,
    Referral,
    ReferralItem,
    ReferralRating,
    ReferralReply,
)

# Deputies hold these titles too (副书记, 副市长): a title with this in it is never 主要领导.
DEPUTY = "副"


@dataclass(frozen=True, slots=True)
class PrincipalRule:
    """Who counts as 主要领导 (党委书记, 政府主要负责人) among the leaders present: someone
    config names, or whose department and title, read together (市委 + 书记 is 市委书记),
    end in one of `titles` and are no deputy's."""

    titles: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()

    def matches(self, *, name: str, department: str, title: str) -> bool:
        """Whether this leader is a principal one."""
        if name in self.names:
            return True
        office = "".join((department + title).split())
        return DEPUTY not in office and any(office.endswith(word) for word in self.titles)


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """What makes two records of 发文 one document: its 文号, which names the issuing organ
    (杭委发〔2025〕3号); without one, issuer, title and date, since two cities may well give
    their documents the same title. A document recorded against two consultations (a policy
    that answers both) is counted once by every unit above them."""

    party: bool
    identity: tuple[str, ...]

    @classmethod
    def of(cls, document: PolicyDocument) -> IssuedDocument:
        number = "".join(document.doc_number.split())
        identity = (
            (number,)
            if number
            else (document.issuer.value, document.title, document.issued_on.isoformat())
        )
        return cls(party=document.issuer.party, identity=identity)


def _sum_by_key(first: dict[K, int], second: dict[K, int]) -> dict[K, int]:
    return {key: first.get(key, 0) + second.get(key, 0) for key in first.keys() | second.keys()}


@dataclass(frozen=True, slots=True)
class Figures:
    """Figures of some consultations that add up: those of two sets of consultations are
    the sum of each (members are kept by id, so one who took part in both counts once, and
    documents by `IssuedDocument`)."""

    consultations: int = 0
    open_consultations: int = 0
    # Open consultations by their stage now, closed ones by the stage they ended in.
    by_stage: dict[Stage, int] = field(default_factory=dict)
    member_ids: frozenset[int] = frozenset()
    participations: int = 0
    opinions: int = 0
    suggestions: int = 0
    referrals: int = 0
    referred_items: int = 0
    replies_by_class: dict[ReplyClass, int] = field(default_factory=dict)
    awaiting_reply: int = 0
    replied_late: int = 0
    overdue_unanswered: int = 0
    ratings: int = 0
    handling_points: int = 0
    result_points: int = 0
    leaders_present: int = 0
    signoffs: int = 0
    issued: frozenset[IssuedDocument] = frozenset()
    # Consultations with a principal leader (党委政府一把手) present.
    principal_sessions: int = 0

    def __add__(self, other: Figures) -> Figures:
        values: dict[str, Any] = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, dict):
                values[item.name] = _sum_by_key(mine, theirs)
            elif isinstance(mine, frozenset):
                values[item.name] = mine | theirs
            else:
                values[item.name] = mine + theirs
        return Figures(**values)

    @property
    def participants(self) -> int:
        """Members who took part, each once."""
        return len(self.member_ids)

    @property
    def documents(self) -> int:
        """Documents issued (发文), each once."""
        return len(self.issued)

    @property
    def party_documents(self) -> int:
        """Documents issued by the party committee or its office (党委（办）发文)."""
        return sum(1 for document in self.issued if document.party)

    def stage_count(self, stage: Stage) -> int:
        """Consultations in (or ended in) `stage`."""
        return self.by_stage.get(stage, 0)

    def replies_of(self, reply_class: ReplyClass) -> int:
        """Referrals whose reply in force is of this class."""
        return self.replies_by_class.get(reply_class, 0)

    @property
    def replies(self) -> int:
        """Referrals with a reply in force."""
        return sum(self.replies_by_class.values())

    @property
    def adopted(self) -> int:
        """Replies that take the suggestion up (A, B or C)."""
        return sum(n for reply_class, n in self.replies_by_class.items() if reply_class.adopted)

    @property
    def adoption_rate(self) -> float | None:
        """Share of answered referrals whose answer is A, B or C; None with no answers."""
        return self.adopted / self.replies if self.replies else None

    @property
    def overdue(self) -> int:
        """Referrals that missed their deadline: answered late or still unanswered."""
        return self.replied_late + self.overdue_unanswered

    @property
    def average_handling(self) -> float | None:
        """Average handling score of the ratings (1 to 5)."""
        return self.handling_points / self.ratings if self.ratings else None

    @property
    def average_result(self) -> float | None:
        """Average result score of the ratings (1 to 5)."""
        return self.result_points / self.ratings if self.ratings else None


def total(figures: Iterable[Figures]) -> Figures:
    """The sum of some figures (nothing adds up to zeros)."""
    result = Figures()
    for item in figures:
        result += item
    return result


def opened_in(year: int | None, zone: ZoneInfo) -> list[sa.ColumnElement[bool]]:
    """The conditions of consultations opened in `year`, local time (none for all years)."""
    if year is None:
        return []
    return [
        col(Consultation.opened_at) >= datetime(year, 1, 1, tzinfo=zone),
        col(Consultation.opened_at) < datetime(year + 1, 1, 1, tzinfo=zone),
    ]


def consultation_figures(
    session: Session,
    *,
    consultations: Sequence[Consultation],
    today: date,
    principal: PrincipalRule,
) -> dict[int, Figures]:
    """The figures of each consultation by id; "overdue" is judged on `today` (a local
    date: a reply is late once the last day to answer has passed)."""
    ids = [c.id for c in consultations if c.id is not None]
    kinds: defaultdict[int, dict[OpinionKind, int]] = defaultdict(dict)
    for consultation_id, kind, count in session.exec(
        select(Opinion.consultation_id, Opinion.kind, func.count())
        .where(col(Opinion.consultation_id).in_(ids), col(Opinion.retracted_at).is_(None))
        .group_by(col(Opinion.consultation_id), col(Opinion.kind))
    ).all():
        kinds[consultation_id][OpinionKind(kind)] = count
    referrals = list(session.exec(select(Referral).where(col(Referral.consultation_id).in_(ids))))
    referral_ids = [r.id for r in referrals if r.id is not None]
    items = dict(
        session.exec(
            select(ReferralItem.referral_id, func.count())
            .where(col(ReferralItem.referral_id).in_(referral_ids))
            .group_by(col(ReferralItem.referral_id))
        ).all()
    )
    standing = {
        reply.referral_id: reply
        for reply in session.exec(
            select(ReferralReply).where(
                col(ReferralReply.referral_id).in_(referral_ids),
                col(ReferralReply.reopened_at).is_(None),
            )
        )
    }
    ratings = {
        referral_id: (int(count), int(handling), int(result))
        for referral_id, count, handling, result in session.exec(
            select(
                ReferralRating.referral_id,
                func.count(),
                func.sum(ReferralRating.handling),
                func.sum(ReferralRating.result),
            )
            .where(col(ReferralRating.referral_id).in_(referral_ids))
            .group_by(col(ReferralRating.referral_id))
        ).all()
    }
    signoffs = dict(
        session.exec(
            select(LeaderSignoff.consultation_id, func.count())
            .where(col(LeaderSignoff.consultation_id).in_(ids))
            .group_by(col(LeaderSignoff.consultation_id))
        ).all()
    )
    documents: defaultdict[int, set[IssuedDocument]] = defaultdict(set)
    for document in session.exec(
        select(PolicyDocument).where(col(PolicyDocument.consultation_id).in_(ids))
    ):
        documents[document.consultation_id].add(IssuedDocument.of(document))

    referral_figures: defaultdict[int, Figures] = defaultdict(Figures)
    for referral in referrals:
        assert referral.id is not None
        reply = standing.get(referral.id)
        count, handling, result = ratings.get(referral.id, (0, 0, 0))
        referral_figures[referral.consultation_id] += Figures(
            referrals=1,
            referred_items=items.get(referral.id, 0),
            replies_by_class={reply.reply_class: 1} if reply is not None else {},
            awaiting_reply=int(reply is None),
            replied_late=int(reply is not None and not reply.on_time),
            overdue_unanswered=int(reply is None and referral.due_on < today),
            ratings=count,
            handling_points=handling,
            result_points=result,
        )
    result_by_id: dict[int, Figures] = {}
    attended = attendances(session, consultations)
    for consultation in consultations:
        assert consultation.id is not None
        cid = consultation.id
        attendance = attended[cid]
        principal_present = any(
            principal.matches(name=g.name, department=g.department, title=g.title)
            for g in attendance.guests
        )
        result_by_id[cid] = referral_figures[cid] + Figures(
            consultations=1,
            open_consultations=int(consultation.closed_at is None),
            by_stage={consultation.stage: 1},
            member_ids=frozenset(p.member_id for p in attendance.participants),
            participations=len(attendance.participants),
            opinions=kinds[cid].get(OpinionKind.OPINION, 0),
            suggestions=kinds[cid].get(OpinionKind.SUGGESTION, 0),
            leaders_present=len(attendance.guests),
            signoffs=signoffs.get(cid, 0),
            issued=frozenset(documents.get(cid, ())),
            principal_sessions=int(principal_present),
        )
    return result_by_id


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
    signoffs: int = 0
    party_documents: int = 0
    documents: int = 0
    principal_sessions: int = 0

    @property
    def overdue(self) -> int:
        """Referrals that missed their deadline: answered late or still unanswered."""
        return self.replied_late + self.overdue_unanswered

    @property
    def replies(self) -> int:
        """Referrals with a reply in force."""
        return sum(self.replies_by_class.values())

    @classmethod
    def of(cls, figures: Figures, *, year: int | None, scope: str) -> Statistics:
        """The statistics these figures give."""
        return cls(
            year=year,
            scope=scope,
            consultations=figures.consultations,
            open_consultations=figures.open_consultations,
            by_stage={stage: figures.stage_count(stage) for stage in Stage},
            participants=figures.participants,
            participations=figures.participations,
            opinions=figures.opinions,
            suggestions=figures.suggestions,
            referrals=figures.referrals,
            referred_items=figures.referred_items,
            replies_by_class={cls_: figures.replies_of(cls_) for cls_ in ReplyClass},
            awaiting_reply=figures.awaiting_reply,
            adoption_rate=figures.adoption_rate,
            replied_late=figures.replied_late,
            overdue_unanswered=figures.overdue_unanswered,
            ratings=figures.ratings,
            average_handling=figures.average_handling,
            average_result=figures.average_result,
            leaders_present=figures.leaders_present,
            signoffs=figures.signoffs,
            party_documents=figures.party_documents,
            documents=figures.documents,
            principal_sessions=figures.principal_sessions,
        )


def compute_statistics(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    year: int | None = None,
    group_id: int | None = None,
    scope: str = "全部群",
    principal: PrincipalRule | None = None,
) -> Statistics:
    """Figures over the consultations opened in `year` (local time; all years if None),
    in one group or in all; "overdue" is judged at `now`."""
    statement = select(Consultation).where(*opened_in(year, zone)).order_by(col(Consultation.id))
    if group_id is not None:
        statement = statement.where(Consultation.group_id == group_id)
    figures = consultation_figures(
        session,
        consultations=list(session.exec(statement)),
        today=now.astimezone(zone).date(),
        principal=principal or PrincipalRule(),
    )
    return Statistics.of(total(figures.values()), year=year, scope=scope)

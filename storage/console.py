"""What the secretary console shows: consultations with their counts, timelines, opinions,
polls with ballots, referrals with their status, and figures per month and per group.

Read-only queries with keyword-only arguments; the console runs them on its own read-only
engine so they never wait for, or hold up, the dispatcher's writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.consultations import counts_of, stage_history
from storage.enums import LetterKind, OpinionKind, PollStatus, ReplyClass, Stage
from storage.followup import follow_up
from storage.groups import get_group, member_names
from storage.models import Ballot, ChatGroup, Consultation, Member, Opinion, Poll, Second
from storage.polls import Tally, tally
from storage.sql import chunks
from storage.step_tables import Referral, ReferralItem, ReferralLetter, ReferralReply


@dataclass(frozen=True, slots=True)
class ConsultationOverview:
    """One line of the consultations list."""

    id: int
    group_title: str
    platform: str
    conversation_id: str
    topic: str
    stage: Stage
    opened_at: datetime
    closed_at: datetime | None
    opinions: int
    suggestions: int
    participants: int
    polls: int
    referrals: int


def _overviews(
    session: Session, rows: Sequence[tuple[Consultation, ChatGroup]]
) -> list[ConsultationOverview]:
    """Each consultation with what it has gathered, in the order given (a few queries for
    all of them: the list holds a province's thousands)."""
    ids = [consultation.id for consultation, _ in rows if consultation.id is not None]
    counts = counts_of(session, ids)
    referrals = _referral_counts(session, ids)
    overviews = []
    for consultation, group in rows:
        assert consultation.id is not None
        gathered = counts[consultation.id]
        overviews.append(
            ConsultationOverview(
                id=consultation.id,
                group_title=group.title or group.conversation_id,
                platform=group.platform,
                conversation_id=group.conversation_id,
                topic=consultation.topic,
                stage=consultation.stage,
                opened_at=consultation.opened_at,
                closed_at=consultation.closed_at,
                opinions=gathered.opinions,
                suggestions=gathered.suggestions,
                participants=gathered.participants,
                polls=gathered.polls,
                referrals=referrals.get(consultation.id, 0),
            )
        )
    return overviews


def _referral_counts(session: Session, consultation_ids: list[int]) -> dict[int, int]:
    """Referrals made in each consultation, by id (none: left out)."""
    counted: dict[int, int] = {}
    for chunk in chunks(consultation_ids):
        counted.update(
            session.exec(
                select(Referral.consultation_id, func.count())
                .where(col(Referral.consultation_id).in_(chunk))
                .group_by(col(Referral.consultation_id))
            ).all()
        )
    return counted


def list_consultation_overviews(
    session: Session, *, group_id: int | None = None, offset: int = 0, limit: int | None = None
) -> list[ConsultationOverview]:
    """The consultations (of one group, when given), newest first, with what they have
    gathered: `limit` of them after the first `offset`, or all."""
    statement = (
        select(Consultation, ChatGroup)
        .join(ChatGroup, col(ChatGroup.id) == col(Consultation.group_id))
        .order_by(col(Consultation.id).desc())
        .offset(offset)
        .limit(limit)
    )
    if group_id is not None:
        statement = statement.where(Consultation.group_id == group_id)
    return _overviews(session, session.exec(statement).all())


def count_consultations(session: Session, *, group_id: int | None = None) -> int:
    """How many consultations there are (in one group, when given)."""
    statement = select(func.count()).select_from(Consultation)
    if group_id is not None:
        statement = statement.where(Consultation.group_id == group_id)
    return int(session.exec(statement).one())


def consultation_overview(session: Session, *, consultation_id: int) -> ConsultationOverview | None:
    """One consultation's overview, or None when there is no such consultation."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    [overview] = _overviews(
        session, [(consultation, get_group(session, group_id=consultation.group_id))]
    )
    return overview


def latest_consultation_of(session: Session, *, platform: str, conversation_id: str) -> int | None:
    """The id of a group's open consultation, or else its latest one (the chat's link)."""
    rows = session.exec(
        select(Consultation.id, Consultation.closed_at)
        .join(ChatGroup, col(ChatGroup.id) == col(Consultation.group_id))
        .where(ChatGroup.platform == platform, ChatGroup.conversation_id == conversation_id)
        .order_by(col(Consultation.id).desc())
    ).all()
    open_ones = [cid for cid, closed in rows if closed is None]
    return (open_ones or [cid for cid, _ in rows] or [None])[0]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Something that happened to the consultation."""

    at: datetime
    text: str


def consultation_timeline(session: Session, *, consultation_id: int) -> list[TimelineEntry]:
    """Stages entered, polls opened and closed, referrals and replies, leaders' 签批 and
    documents issued (when they were recorded), oldest first."""
    entries = [
        TimelineEntry(
            change.changed_at,
            ("进入" if change.from_stage else "开始于") + f"「{change.to_stage.label}」",
        )
        for change in stage_history(session, consultation_id=consultation_id)
    ]
    for poll in session.exec(select(Poll).where(Poll.consultation_id == consultation_id)):
        entries.append(TimelineEntry(poll.opened_at, f"发起投票 #{poll.number}：{poll.question}"))
        if poll.closed_at is not None:
            entries.append(TimelineEntry(poll.closed_at, f"投票 #{poll.number} 结束"))
    referrals = session.exec(select(Referral).where(Referral.consultation_id == consultation_id))
    for referral in referrals:
        where = f"报送 #{referral.number} 至{referral.lead_department}"
        entries.append(TimelineEntry(referral.referred_at, where))
        for reply in session.exec(
            select(ReferralReply).where(ReferralReply.referral_id == referral.id)
        ):
            entries.append(
                TimelineEntry(
                    reply.replied_at, f"报送 #{referral.number} 收到答复：{reply.reply_class.label}"
                )
            )
    records = follow_up(session, consultation_id=consultation_id)
    for signoff in records.signoffs:
        about = f"就报送 #{signoff.referral_number}" if signoff.referral_number else ""
        entries.append(
            TimelineEntry(
                signoff.recorded_at,
                f"签批 #{signoff.number}：{signoff.leader}（{signoff.title}）"
                f"{signoff.signed_on.month}月{signoff.signed_on.day}日{about}批示",
            )
        )
    for document in records.documents:
        about = f"，源自报送 #{document.referral_number}" if document.referral_number else ""
        entries.append(
            TimelineEntry(
                document.recorded_at,
                f"发文 #{document.number}：{document.issuer.label}印发《{document.title}》{about}",
            )
        )
    consultation = session.get(Consultation, consultation_id)
    if consultation is not None and consultation.closed_at is not None:
        entries.append(TimelineEntry(consultation.closed_at, "协商结束"))
    return sorted(entries, key=lambda entry: entry.at)


@dataclass(frozen=True, slots=True)
class OpinionRow:
    """An opinion as the console lists and exports it."""

    number: int
    kind: OpinionKind
    text: str
    member_id: int
    member_name: str
    created_at: datetime
    retracted: bool
    seconds: int


def list_opinion_rows(
    session: Session,
    *,
    consultation_id: int,
    kind: OpinionKind | None = None,
    member_id: int | None = None,
    numbers: set[int] | None = None,
) -> list[OpinionRow]:
    """The consultation's opinions by number, optionally of one kind, by one member, or
    among some numbers (a theme of the minutes); withdrawn ones are included and marked."""
    statement = (
        select(Opinion, Member.name)
        .join(Member, col(Member.id) == col(Opinion.member_id))
        .where(Opinion.consultation_id == consultation_id)
        .order_by(col(Opinion.number))
    )
    if kind is not None:
        statement = statement.where(Opinion.kind == kind)
    if member_id is not None:
        statement = statement.where(Opinion.member_id == member_id)
    if numbers is not None:
        statement = statement.where(col(Opinion.number).in_(numbers))
    rows = session.exec(statement).all()
    ids = [opinion.id for opinion, _ in rows if opinion.id is not None]
    seconds = dict(
        session.exec(
            select(Second.opinion_id, func.count())
            .where(col(Second.opinion_id).in_(ids))
            .group_by(col(Second.opinion_id))
        ).all()
    )
    return [
        OpinionRow(
            number=opinion.number,
            kind=opinion.kind,
            text=opinion.text,
            member_id=opinion.member_id,
            member_name=name,
            created_at=opinion.created_at,
            retracted=opinion.retracted_at is not None,
            seconds=seconds.get(opinion.id or 0, 0),
        )
        for opinion, name in rows
    ]


def opinion_authors(session: Session, *, consultation_id: int) -> list[tuple[int, str]]:
    """(member id, name) of everyone who posted in the consultation, by name (the filter)."""
    rows = session.exec(
        select(Member.id, Member.name)
        .join(Opinion, col(Opinion.member_id) == col(Member.id))
        .where(Opinion.consultation_id == consultation_id)
        .distinct()
    ).all()
    return sorted(((mid, name) for mid, name in rows if mid is not None), key=lambda r: r[1])


@dataclass(frozen=True, slots=True)
class PollResult:
    """A poll and its count."""

    number: int
    question: str
    options: tuple[str, ...]
    anonymous: bool
    multiple: bool
    open: bool
    tally: Tally


def list_poll_results(session: Session, *, consultation_id: int) -> list[PollResult]:
    """The consultation's polls by number, each with its tally."""
    polls = session.exec(
        select(Poll).where(Poll.consultation_id == consultation_id).order_by(col(Poll.number))
    )
    return [
        PollResult(
            number=poll.number,
            question=poll.question,
            options=tuple(poll.options),
            anonymous=poll.anonymous,
            multiple=poll.multiple,
            open=poll.status is PollStatus.OPEN,
            tally=tally(session, poll=poll),
        )
        for poll in polls
    ]


@dataclass(frozen=True, slots=True)
class BallotRow:
    """A named poll's ballot (one voter, `votes` 1, when it was cast), or an anonymous
    poll's count for one option (no voter, no time: anonymous polls export counts only)."""

    poll_number: int
    question: str
    voter: str
    choices: tuple[str, ...]
    votes: int
    cast_at: datetime | None


def list_ballot_rows(session: Session, *, consultation_id: int) -> list[BallotRow]:
    """The ballots of the consultation's named polls, by poll and time of the vote, and the
    counts of its anonymous polls, by poll and option."""
    rows = session.exec(
        select(Poll, Ballot)
        .join(Ballot, col(Ballot.poll_id) == col(Poll.id))
        .where(Poll.consultation_id == consultation_id, col(Poll.anonymous).is_(False))
        .order_by(col(Poll.number), col(Ballot.cast_at), col(Ballot.id))
    ).all()
    names = member_names(
        session, member_ids={b.member_id for _, b in rows if b.member_id is not None}
    )
    result: dict[int, list[BallotRow]] = {}
    for poll, ballot in rows:
        voter = names.get(ballot.member_id or 0, "")
        choices = tuple(poll.options[c - 1] for c in ballot.choices if 1 <= c <= len(poll.options))
        result.setdefault(poll.number, []).append(
            BallotRow(poll.number, poll.question, voter, choices, 1, ballot.cast_at)
        )
    anonymous = session.exec(
        select(Poll).where(Poll.consultation_id == consultation_id, col(Poll.anonymous).is_(True))
    ).all()
    for poll in anonymous:
        counted = tally(session, poll=poll)
        result[poll.number] = [
            BallotRow(poll.number, poll.question, "", (option,), votes, None)
            for option, votes in zip(poll.options, counted.votes, strict=True)
        ]
    return [row for number in sorted(result) for row in result[number]]


@dataclass(frozen=True, slots=True)
class LetterLink:
    """A letter of a referral as the console lists it."""

    id: int
    kind: LetterKind
    number: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class ReferralRow:
    """A referral with where it stands; `due_on` is the last day to answer (local)."""

    id: int
    number: int
    lead_department: str
    co_departments: tuple[str, ...]
    opinion_numbers: tuple[int, ...]
    referred_at: datetime
    due_on: date
    reply_class: ReplyClass | None
    replied_at: datetime | None
    reply_text: str
    overdue: bool
    letters: tuple[LetterLink, ...] = ()

    @property
    def status(self) -> str:
        """`待答复`, `逾期未答复` or the reply's class."""
        if self.reply_class is not None:
            return self.reply_class.label
        return "逾期未答复" if self.overdue else "待答复"


def list_referral_rows(session: Session, *, consultation_id: int, today: date) -> list[ReferralRow]:
    """The consultation's referrals by number, with their standing reply if any and their
    letters; overdue when `today` (local) is past the last day to answer."""
    result = []
    referrals = session.exec(
        select(Referral)
        .where(Referral.consultation_id == consultation_id)
        .order_by(col(Referral.number))
    )
    for referral in referrals:
        assert referral.id is not None
        numbers = session.exec(
            select(Opinion.number)
            .join(ReferralItem, col(ReferralItem.opinion_id) == col(Opinion.id))
            .where(ReferralItem.referral_id == referral.id)
            .order_by(col(Opinion.number))
        ).all()
        reply = session.exec(
            select(ReferralReply).where(
                ReferralReply.referral_id == referral.id, col(ReferralReply.reopened_at).is_(None)
            )
        ).first()
        letters = session.exec(
            select(
                col(ReferralLetter.id),
                col(ReferralLetter.kind),
                col(ReferralLetter.number),
                col(ReferralLetter.issued_on),
            )
            .where(ReferralLetter.referral_id == referral.id)
            .order_by(col(ReferralLetter.id))
        ).all()
        result.append(
            ReferralRow(
                id=referral.id,
                number=referral.number,
                lead_department=referral.lead_department,
                co_departments=tuple(referral.co_departments),
                opinion_numbers=tuple(numbers),
                referred_at=referral.referred_at,
                due_on=referral.due_on,
                reply_class=reply.reply_class if reply else None,
                replied_at=reply.replied_at if reply else None,
                reply_text=reply.text if reply else "",
                overdue=reply is None and referral.due_on < today,
                letters=tuple(
                    LetterLink(letter_id, kind, number, issued_on)
                    for letter_id, kind, number, issued_on in letters
                    if letter_id is not None
                ),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """What happened in one month, or in one group."""

    label: str
    consultations: int
    opinions: int
    suggestions: int
    referrals: int


def monthly_figures(session: Session, *, zone: ZoneInfo, year: int) -> list[PeriodFigures]:
    """Consultations opened, opinions and suggestions posted and referrals made in each month
    of `year` (local time), twelve entries."""
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)

    def months(times: list[datetime]) -> Counter[int]:
        return Counter(moment.astimezone(zone).month for moment in times)

    opened = months(
        list(
            session.exec(
                select(Consultation.opened_at).where(
                    col(Consultation.opened_at) >= start, col(Consultation.opened_at) < end
                )
            )
        )
    )
    by_kind = {
        kind: months(
            list(
                session.exec(
                    select(Opinion.created_at).where(
                        Opinion.kind == kind,
                        col(Opinion.retracted_at).is_(None),
                        col(Opinion.created_at) >= start,
                        col(Opinion.created_at) < end,
                    )
                )
            )
        )
        for kind in OpinionKind
    }
    referred = months(
        list(
            session.exec(
                select(Referral.referred_at).where(
                    col(Referral.referred_at) >= start, col(Referral.referred_at) < end
                )
            )
        )
    )
    return [
        PeriodFigures(
            label=f"{month}月",
            consultations=opened[month],
            opinions=by_kind[OpinionKind.OPINION][month],
            suggestions=by_kind[OpinionKind.SUGGESTION][month],
            referrals=referred[month],
        )
        for month in range(1, 13)
    ]


def group_figures(session: Session, *, zone: ZoneInfo, year: int | None) -> list[PeriodFigures]:
    """The same figures per group, over consultations opened in `year` (all if None)."""
    statement = select(Consultation, ChatGroup).join(
        ChatGroup, col(ChatGroup.id) == col(Consultation.group_id)
    )
    if year is not None:
        statement = statement.where(
            col(Consultation.opened_at) >= datetime(year, 1, 1, tzinfo=zone),
            col(Consultation.opened_at) < datetime(year + 1, 1, 1, tzinfo=zone),
        )
    figures: dict[str, list[int]] = {}
    for overview in _overviews(session, session.exec(statement).all()):
        totals = figures.setdefault(overview.group_title, [0, 0, 0, 0])
        gathered = (1, overview.opinions, overview.suggestions, overview.referrals)
        for index, value in enumerate(gathered):
            totals[index] += value
    return [
        PeriodFigures(title, totals[0], totals[1], totals[2], totals[3])
        for title, totals in sorted(figures.items())
    ]


def group_ids(session: Session) -> list[tuple[int, str]]:
    """(id, title) of every group that held a consultation."""
    rows = session.exec(
        select(ChatGroup.id, ChatGroup.title, ChatGroup.conversation_id)
        .join(Consultation, col(Consultation.group_id) == col(ChatGroup.id))
        .distinct()
    ).all()
    return sorted((gid, title or conv) for gid, title, conv in rows if gid is not None)


def consultation_letter(
    session: Session, *, consultation_id: int, letter_id: int
) -> ReferralLetter | None:
    """A letter (报送函 or 重办函) of one of the consultation's referrals, as issued."""
    return session.exec(
        select(ReferralLetter)
        .join(Referral, col(Referral.id) == col(ReferralLetter.referral_id))
        .where(ReferralLetter.id == letter_id, Referral.consultation_id == consultation_id)
    ).first()


def referral_letter_of(
    session: Session, *, consultation_id: int, number: int
) -> ReferralLetter | None:
    """The 报送函 of the consultation's referral #number, as issued."""
    return session.exec(
        select(ReferralLetter)
        .join(Referral, col(Referral.id) == col(ReferralLetter.referral_id))
        .where(
            Referral.consultation_id == consultation_id,
            Referral.number == number,
            ReferralLetter.kind == LetterKind.REFERRAL,
        )
        .order_by(col(ReferralLetter.id))
    ).first()

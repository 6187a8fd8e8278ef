"""Referrals of suggestions to departments (报送), their replies (办理反馈) and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.enums import LetterKind, OpinionKind, ReplyClass
from storage.groups import get_group
from storage.models import Consultation, Member, Opinion, Second
from storage.sequences import next_in_group
from storage.sql import insert
from storage.step_tables import (
    Referral,
    ReferralItem,
    ReferralLetter,
    ReferralReminder,
    ReferralReply,
)


def create_referral(
    session: Session,
    *,
    consultation_id: int,
    opinion_ids: list[int],
    lead_department: str,
    co_departments: list[str],
    due_on: date,
    member_id: int,
    message_id: str,
    now: datetime,
) -> Referral:
    """Refer these opinions under the group's next referral number, to be answered by the
    end of `due_on` (a local date)."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise LookupError(f"no consultation {consultation_id}")
    number = next_in_group(session, group_id=consultation.group_id, name="referral")
    referral = Referral(
        consultation_id=consultation_id,
        number=number,
        lead_department=lead_department,
        co_departments=co_departments,
        due_on=due_on,
        deadline_set_at=now,
        referred_by=member_id,
        referred_at=now,
        message_id=message_id,
    )
    session.add(referral)
    session.flush()
    assert referral.id is not None
    for opinion_id in opinion_ids:
        session.add(ReferralItem(referral_id=referral.id, opinion_id=opinion_id))
    session.flush()
    return referral


def get_referral(session: Session, *, consultation_id: int, number: int) -> Referral | None:
    """A referral of the consultation by its number."""
    return session.exec(
        select(Referral).where(
            Referral.consultation_id == consultation_id, Referral.number == number
        )
    ).first()


def find_referral(session: Session, *, group_id: int, number: int) -> Referral | None:
    """The group's referral #number, whichever consultation it came from. Numbers are kept
    per group; referrals made before that (numbered per consultation) may share a number,
    and then the newest consultation's wins."""
    return session.exec(
        select(Referral)
        .join(Consultation, col(Consultation.id) == col(Referral.consultation_id))
        .where(Consultation.group_id == group_id, Referral.number == number)
        .order_by(col(Referral.consultation_id).desc())
    ).first()


def get_referral_by_id(session: Session, *, referral_id: int) -> Referral | None:
    """A referral by its database id (for scheduled jobs and the CLI)."""
    return session.get(Referral, referral_id)


def list_referrals(session: Session, *, consultation_id: int) -> list[Referral]:
    """The consultation's referrals, by number."""
    return list(
        session.exec(
            select(Referral)
            .where(Referral.consultation_id == consultation_id)
            .order_by(col(Referral.number))
        )
    )


def referrals_to_department(
    session: Session, *, opinion_ids: list[int], lead_department: str
) -> dict[int, int]:
    """Which of these opinions were already referred to this lead department: opinion id
    to referral number."""
    rows = session.exec(
        select(ReferralItem.opinion_id, Referral.number)
        .join(Referral, col(Referral.id) == col(ReferralItem.referral_id))
        .where(
            col(ReferralItem.opinion_id).in_(opinion_ids),
            Referral.lead_department == lead_department,
        )
    )
    return dict(rows.all())


def standing_reply(session: Session, *, referral_id: int) -> ReferralReply | None:
    """The reply in force (not reopened), if the department has answered."""
    return session.exec(
        select(ReferralReply).where(
            ReferralReply.referral_id == referral_id, col(ReferralReply.reopened_at).is_(None)
        )
    ).first()


def reply_history(session: Session, *, referral_id: int) -> list[ReferralReply]:
    """Every reply to the referral, reopened ones included, oldest first."""
    return list(
        session.exec(
            select(ReferralReply)
            .where(ReferralReply.referral_id == referral_id)
            .order_by(col(ReferralReply.id))
        )
    )


def record_reply(
    session: Session,
    *,
    referral: Referral,
    reply_class: ReplyClass,
    text: str,
    member_id: int,
    now: datetime,
    today: date,
) -> ReferralReply:
    """Keep the department's reply; it is on time when `today` (the local date of `now`)
    is the deadline's day or before it."""
    assert referral.id is not None
    reply = ReferralReply(
        referral_id=referral.id,
        reply_class=reply_class,
        text=text,
        replied_by=member_id,
        replied_at=now,
        on_time=today <= referral.due_on,
    )
    session.add(reply)
    session.flush()
    return reply


def reopen_reply(
    session: Session,
    *,
    referral: Referral,
    reply: ReferralReply,
    reason: str,
    due_on: date,
    member_id: int,
    now: datetime,
) -> None:
    """Set a reply aside (members were not satisfied) and await a new one by the end of
    `due_on`. The letters already issued stay as they were: a 重办函 is a new letter."""
    reply.reopened_at = now
    reply.reopened_by = member_id
    reply.reopen_reason = reason
    referral.due_on = due_on
    referral.deadline_set_at = now
    session.add(reply)
    session.add(referral)
    session.flush()


def mark_reminder_sent(session: Session, *, referral_id: int, key: str, now: datetime) -> bool:
    """Note that reminder `key` went out; False when it had gone out already."""
    statement = (
        insert(session, ReferralReminder)
        .values(referral_id=referral_id, key=key, sent_at=now)
        .on_conflict_do_nothing(index_elements=["referral_id", "key"])
        .returning(ReferralReminder.id)
    )
    return session.execute(statement).first() is not None


def sent_reminder_keys(session: Session, *, referral_id: int) -> set[str]:
    """The reminders of the referral that went out."""
    return set(
        session.exec(
            select(ReferralReminder.key).where(ReferralReminder.referral_id == referral_id)
        )
    )


def _awaiting() -> sa.ColumnElement[bool]:
    standing = (
        select(ReferralReply.id)
        .where(
            col(ReferralReply.referral_id) == col(Referral.id),
            col(ReferralReply.reopened_at).is_(None),
        )
        .exists()
    )
    return ~standing


def referrals_awaiting_reply(session: Session) -> list[Referral]:
    """Referrals still waiting for a reply, their consultation open or closed (to re-arm
    reminders)."""
    return list(session.exec(select(Referral).where(_awaiting()).order_by(col(Referral.id))))


@dataclass(frozen=True, slots=True)
class OverdueReferral:
    """A referral past its deadline with no reply, and the consultation it came from."""

    referral: Referral
    topic: str
    consultation_open: bool


def list_overdue_referrals(
    session: Session, *, today: date, group_id: int | None = None
) -> list[OverdueReferral]:
    """Referrals whose last day is before `today` (local) without a reply, longest overdue
    first."""
    statement = (
        select(Referral, Consultation)
        .join(Consultation, col(Consultation.id) == col(Referral.consultation_id))
        .where(col(Referral.due_on) < today, _awaiting())
        .order_by(col(Referral.due_on), col(Referral.id))
    )
    if group_id is not None:
        statement = statement.where(Consultation.group_id == group_id)
    return [
        OverdueReferral(referral, consultation.topic, consultation.closed_at is None)
        for referral, consultation in session.exec(statement)
    ]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in a referral: display name and platform user id (to @mention)."""

    name: str
    user_id: str


@dataclass(frozen=True, slots=True)
class DossierItem:
    """One referred opinion, with who proposed and who seconded it."""

    number: int
    kind: OpinionKind
    text: str
    proposer: Person
    seconders: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class ReferralDossier:
    """Everything the referral letter and the notices about a referral say."""

    referral_id: int
    number: int
    topic: str
    group_title: str
    consultation_opened_at: datetime
    lead_department: str
    co_departments: tuple[str, ...]
    due_on: date
    referred_at: datetime
    items: tuple[DossierItem, ...]

    @property
    def people(self) -> tuple[Person, ...]:
        """Proposers and seconders, each once, in the order they appear."""
        seen: dict[str, Person] = {}
        for item in self.items:
            for person in (item.proposer, *item.seconders):
                seen.setdefault(person.user_id, person)
        return tuple(seen.values())


def referral_dossier(session: Session, *, referral_id: int) -> ReferralDossier:
    """The referral with its opinions, proposers and seconders, for letters and notices."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise LookupError(f"no referral {referral_id}")
    consultation = session.get(Consultation, referral.consultation_id)
    assert consultation is not None
    group = get_group(session, group_id=consultation.group_id)
    rows = session.exec(
        select(Opinion, Member)
        .join(ReferralItem, col(ReferralItem.opinion_id) == col(Opinion.id))
        .join(Member, col(Member.id) == col(Opinion.member_id))
        .where(ReferralItem.referral_id == referral_id)
        .order_by(col(Opinion.number))
    ).all()
    opinion_ids = [opinion.id for opinion, _ in rows if opinion.id is not None]
    seconders: dict[int, list[Person]] = {opinion_id: [] for opinion_id in opinion_ids}
    for opinion_id, member in session.exec(
        select(Second.opinion_id, Member)
        .join(Member, col(Member.id) == col(Second.member_id))
        .where(col(Second.opinion_id).in_(opinion_ids))
        .order_by(col(Second.id))
    ):
        seconders[opinion_id].append(Person(member.name, member.user_id))
    items = tuple(
        DossierItem(
            number=opinion.number,
            kind=opinion.kind,
            text=opinion.text,
            proposer=Person(member.name, member.user_id),
            seconders=tuple(seconders[opinion.id]),
        )
        for opinion, member in rows
        if opinion.id is not None
    )
    return ReferralDossier(
        referral_id=referral_id,
        number=referral.number,
        topic=consultation.topic,
        group_title=group.title,
        consultation_opened_at=consultation.opened_at,
        lead_department=referral.lead_department,
        co_departments=tuple(referral.co_departments),
        due_on=referral.due_on,
        referred_at=referral.referred_at,
        items=items,
    )


# Letters: issued once, never changed. A letter is reserved (its id is its number's N, so
# the text can print it) and filled in the same transaction; nothing updates it after.


def reserve_letter(
    session: Session,
    *,
    referral_id: int,
    kind: LetterKind,
    refers_to: int | None,
    issued_on: date,
    due_on: date,
    message_id: str,
    now: datetime,
) -> ReferralLetter:
    """A new letter of the referral with its number's N (its id); its text comes next,
    with `fill_letter`, before the transaction commits."""
    letter = ReferralLetter(
        referral_id=referral_id,
        kind=kind,
        refers_to=refers_to,
        number="",
        issued_on=issued_on,
        due_on=due_on,
        markdown="",
        docx=b"",
        issued_at=now,
        message_id=message_id,
    )
    session.add(letter)
    session.flush()
    return letter


def fill_letter(
    session: Session, *, letter: ReferralLetter, number: str, markdown: str, docx: bytes
) -> bool:
    """Give a reserved (or never rendered) letter its text; False, changing nothing, when
    it has its text already (another process rendered it first). Nothing else ever writes
    to an issued letter."""
    filled = session.execute(
        sa.update(ReferralLetter)
        .where(
            col(ReferralLetter.id) == letter.id,
            sa.func.length(col(ReferralLetter.docx)) == 0,
        )
        .values(number=number, markdown=markdown, docx=docx)
        .returning(col(ReferralLetter.id))
        .execution_options(synchronize_session=False)
    ).first()
    session.expire(letter)
    return filled is not None


def get_letter(session: Session, *, letter_id: int) -> ReferralLetter | None:
    """A letter by its number's N."""
    return session.get(ReferralLetter, letter_id)


def referral_letters(session: Session, *, referral_id: int) -> list[ReferralLetter]:
    """The referral's letters in the order they were issued: the 报送函, then any 重办函."""
    return list(
        session.exec(
            select(ReferralLetter)
            .where(ReferralLetter.referral_id == referral_id)
            .order_by(col(ReferralLetter.id))
        )
    )


def unrendered_letters(session: Session) -> list[ReferralLetter]:
    """Letters issued before letters were stored (reserved by the upgrade, no text yet)."""
    return list(
        session.exec(
            select(ReferralLetter)
            .where(sa.func.length(col(ReferralLetter.docx)) == 0)
            .order_by(col(ReferralLetter.id))
        )
    )

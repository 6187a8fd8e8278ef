"""The tables of the seven steps and the follow-up: topics, plan, research, attendance,
referrals to departments, their replies and reminders, and members' ratings.

Kept apart from `storage.models` (the foundation's tables) so each can grow without the
other; `storage.migrations.env` imports both.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.enums import DocumentIssuer, LetterKind, ReplyClass
from storage.models import _enum, _utc


class GroupCounter(SQLModel, table=True):
    """Per-group numbering of what outlives its consultation: a department answers 报送 #7
    weeks later, perhaps after the consultation closed and another opened, and #7 must still
    name one referral of the group."""

    __tablename__ = "group_counter"
    __table_args__ = (sa.UniqueConstraint("group_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id")
    name: str = Field(max_length=16)
    value: int = 0


class SequenceCounter(SQLModel, table=True):
    """Per-consultation numbering of things members refer to as `#3` (proposals, referrals)."""

    __tablename__ = "sequence_counter"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    name: str = Field(max_length=16)
    value: int = 0


class TopicProposal(SQLModel, table=True):
    """A topic a member proposed in 选题定题; the same wording counts once."""

    __tablename__ = "topic_proposal"
    __table_args__ = (
        sa.UniqueConstraint("consultation_id", "number"),
        sa.UniqueConstraint("consultation_id", "text_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    number: int
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(max_length=200)
    # The wording folded (width, case, spaces), so a re-typed duplicate is caught.
    text_key: str = Field(max_length=200)
    message_id: str = Field(max_length=128)
    created_at: datetime = _utc()


class TopicPoll(SQLModel, table=True):
    """A poll whose options are topic proposals: its winner becomes the topic."""

    __tablename__ = "topic_poll"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", unique=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    # Proposal numbers in the poll's option order.
    proposal_numbers: list[int] = Field(sa_type=sa.JSON)


class ConsultationPlan(SQLModel, table=True):
    """The plan of a consultation (制订方案); a later /方案 changes only the fields it names."""

    __tablename__ = "consultation_plan"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", unique=True)
    schedule: str = Field(default="", max_length=100)
    place: str = Field(default="", max_length=200)
    departments: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    leaders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    notes: str = Field(default="", sa_type=sa.Text)
    recorded_by: int = Field(foreign_key="member.id")
    recorded_at: datetime = _utc()


class ResearchNote(SQLModel, table=True):
    """A research note a member attached in 组织调研."""

    __tablename__ = "research_note"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    number: int
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(sa_type=sa.Text)
    message_id: str = Field(max_length=128)
    created_at: datetime = _utc()


class MemberProfile(SQLModel, table=True):
    """What config says about a person: their sector (界别), or their office if a leader.

    Keyed by platform user id rather than member id: config names people before they have
    ever written in a group.
    """

    __tablename__ = "member_profile"
    __table_args__ = (sa.UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=128)
    sector: str = Field(default="", max_length=32)
    # Roles config gives them (values of storage.enums.Role), beside everyone's 委员.
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Set for leaders and department representatives; empty for members.
    department: str = Field(default="", max_length=64)
    title: str = Field(default="", max_length=64)


class GuestAttendance(SQLModel, table=True):
    """A leader or department representative who attended, as recorded with /出席."""

    __tablename__ = "guest_attendance"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    name: str = Field(max_length=64)
    department: str = Field(max_length=64)
    title: str = Field(default="", max_length=64)
    # The guest's own member record, when they were @-mentioned and are known in the group
    # (their messages then count as a guest's, not a committee member's).
    person_id: int | None = Field(default=None, foreign_key="member.id")
    recorded_by: int = Field(foreign_key="member.id")
    recorded_at: datetime = _utc()


class Referral(SQLModel, table=True):
    """Suggestions referred to a lead department (and co-handling ones) with a deadline."""

    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    lead_department: str = Field(max_length=64)
    co_departments: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The deadline: the last day (local date) on which a reply is on time. Chat, letters,
    # console and exports show this date; a reply dated later is late.
    due_on: date = Field(sa_type=sa.Date, index=True)
    # When the deadline in force was set (referred, or reopened): reminders that were
    # already past then are skipped rather than sent late.
    deadline_set_at: datetime = _utc()
    referred_by: int = Field(foreign_key="member.id")
    referred_at: datetime = _utc()
    message_id: str = Field(max_length=128)


class ReferralLetter(SQLModel, table=True):
    """A letter as it was issued (报送函, or a 重办函 that refers to the first): number,
    date, deadline, text and DOCX are kept as sent and never change afterwards, so the
    copy downloaded later is the one the department received.

    Its id is the N of its number 〔年〕N号 (one series for both kinds). Letters issued
    before letters were stored have empty text until the bot renders them once at start.
    """

    __tablename__ = "referral_letter"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: LetterKind = Field(sa_type=_enum(LetterKind))
    # The 报送函 a 重办函 sends back to be redone.
    refers_to: int | None = Field(default=None, foreign_key="referral_letter.id")
    number: str = Field(max_length=40)
    issued_on: date = Field(sa_type=sa.Date)
    due_on: date = Field(sa_type=sa.Date)
    markdown: str = Field(sa_type=sa.Text)
    docx: bytes = Field(sa_type=sa.LargeBinary)
    issued_at: datetime = _utc()
    message_id: str = Field(max_length=128)


class ReferralItem(SQLModel, table=True):
    """One suggestion (or opinion) in a referral."""

    __tablename__ = "referral_item"
    __table_args__ = (sa.UniqueConstraint("referral_id", "opinion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id")
    opinion_id: int = Field(foreign_key="opinion.id")


class ReferralReply(SQLModel, table=True):
    """A department's reply; a reopened reply stays on record and a new one is awaited."""

    __tablename__ = "referral_reply"
    __table_args__ = (
        # At most one standing (not reopened) reply per referral.
        sa.Index(
            "uq_referral_reply_standing",
            "referral_id",
            unique=True,
            sqlite_where=sa.text("reopened_at IS NULL"),
            postgresql_where=sa.text("reopened_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    reply_class: ReplyClass = Field(sa_type=_enum(ReplyClass))
    text: str = Field(sa_type=sa.Text)
    replied_by: int = Field(foreign_key="member.id")
    replied_at: datetime = _utc()
    on_time: bool
    reopened_at: datetime | None = _utc(nullable=True)
    reopened_by: int | None = Field(default=None, foreign_key="member.id")
    reopen_reason: str = Field(default="", sa_type=sa.Text)


class ReferralReminder(SQLModel, table=True):
    """A reminder that was posted, so it is posted once however often its job runs."""

    __tablename__ = "referral_reminder"
    __table_args__ = (sa.UniqueConstraint("referral_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id")
    key: str = Field(max_length=40)
    sent_at: datetime = _utc()


class ReferralRating(SQLModel, table=True):
    """One member's rating of a replied referral: handling and result, 1 to 5; replaceable."""

    __tablename__ = "referral_rating"
    __table_args__ = (
        sa.UniqueConstraint("referral_id", "member_id"),
        sa.CheckConstraint("handling BETWEEN 1 AND 5", name="ck_rating_handling"),
        sa.CheckConstraint("result BETWEEN 1 AND 5", name="ck_rating_result"),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id")
    member_id: int = Field(foreign_key="member.id")
    handling: int
    result: int
    comment: str = Field(default="", sa_type=sa.Text)
    # The platform time of the rating: the later one wins, whatever the arrival order.
    rated_at: datetime = _utc()


class GroupUnit(SQLModel, table=True):
    """The unit (a CPPCC office in config's tree) a secretary attached the group to with
    /本群 单位. Kept by the unit's name, as config names it: the tree itself lives in config."""

    __tablename__ = "group_unit"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", unique=True)
    unit: str = Field(max_length=64)
    attached_by: int = Field(foreign_key="member.id")
    attached_at: datetime = _utc()


class LeaderSignoff(SQLModel, table=True):
    """A leader's 签批 (written instruction) on a consultation or on one of its referrals."""

    __tablename__ = "leader_signoff"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    # Per group, as referrals are: a 签批 may come after the consultation closed.
    number: int
    leader: str = Field(max_length=64)
    title: str = Field(max_length=64)
    signed_on: date
    instruction: str = Field(sa_type=sa.Text)
    recorded_by: int = Field(foreign_key="member.id")
    recorded_at: datetime = _utc()
    message_id: str = Field(max_length=128)


class PolicyDocument(SQLModel, table=True):
    """A document issued because of a consultation (发文): the policy its suggestions became."""

    __tablename__ = "policy_document"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    number: int
    issuer: DocumentIssuer = Field(sa_type=_enum(DocumentIssuer))
    # 文号, e.g. 桐政办发〔2020〕12号; empty when the secretary did not give one.
    doc_number: str = Field(default="", max_length=64)
    title: str = Field(max_length=200)
    issued_on: date
    recorded_by: int = Field(foreign_key="member.id")
    recorded_at: datetime = _utc()
    message_id: str = Field(max_length=128)

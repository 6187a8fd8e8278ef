"""The tables. Every time is UTC and timezone-aware; enums are stored as their values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.enums import OpinionKind, OutboxStatus, PollStatus, Role, Stage
from storage.types import UTCDateTime


def _enum(enum: type[StrEnum]) -> sa.Enum:
    # Stored as plain strings (no PostgreSQL ENUM type to migrate) but loaded back as the enum.
    return sa.Enum(
        enum,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index)


class ChatGroup(SQLModel, table=True):
    """A group chat (or a single chat) on one platform."""

    __tablename__ = "chat_group"
    __table_args__ = (sa.UniqueConstraint("platform", "conversation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    conversation_id: str = Field(max_length=128)
    title: str = Field(default="", max_length=128)
    created_at: datetime = _utc()


class Member(SQLModel, table=True):
    """A person as one platform knows them; the name follows their latest message."""

    __table_args__ = (sa.UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=128)
    name: str = Field(max_length=64)
    created_at: datetime = _utc()


class MemberRole(SQLModel, table=True):
    """A role granted to a member in one group, beside the roles given in config."""

    __tablename__ = "member_role"
    __table_args__ = (sa.UniqueConstraint("member_id", "group_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    group_id: int = Field(foreign_key="chat_group.id")
    role: Role = Field(sa_type=_enum(Role))
    granted_by: int | None = Field(default=None, foreign_key="member.id")
    granted_at: datetime = _utc()


class Consultation(SQLModel, table=True):
    """One consultation in one group; open until closed, always in exactly one stage."""

    __table_args__ = (
        # At most one open consultation per group.
        sa.Index(
            "uq_consultation_open_group",
            "group_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    topic: str = Field(default="", max_length=200)
    stage: Stage = Field(sa_type=_enum(Stage))
    opened_by: int = Field(foreign_key="member.id")
    opened_at: datetime = _utc()
    closed_at: datetime | None = _utc(nullable=True)
    closed_by: int | None = Field(default=None, foreign_key="member.id")
    # Per-consultation numbering, so members type #12 rather than a global #104532.
    opinion_seq: int = 0
    poll_seq: int = 0


class StageChange(SQLModel, table=True):
    """One move of a consultation from one stage to another: who and when."""

    __tablename__ = "stage_change"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    from_stage: Stage | None = Field(default=None, sa_type=_enum(Stage), nullable=True)
    to_stage: Stage = Field(sa_type=_enum(Stage))
    changed_by: int | None = Field(default=None, foreign_key="member.id")
    changed_at: datetime = _utc()


class Opinion(SQLModel, table=True):
    """An opinion or suggestion a member posted, numbered within its consultation."""

    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    number: int
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: OpinionKind = Field(sa_type=_enum(OpinionKind))
    text: str = Field(sa_type=sa.Text)
    # The platform message it came from, so every quote points back to what was said.
    message_id: str = Field(max_length=128)
    created_at: datetime = _utc()
    retracted_at: datetime | None = _utc(nullable=True)


class Second(SQLModel, table=True):
    """A member seconding (附议) another member's opinion, once."""

    __table_args__ = (sa.UniqueConstraint("opinion_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="opinion.id")
    member_id: int = Field(foreign_key="member.id")
    created_at: datetime = _utc()


class Poll(SQLModel, table=True):
    """A question with numbered options, open until closed by hand or by its deadline."""

    __table_args__ = (
        sa.UniqueConstraint("consultation_id", "number"),
        sa.Index("ix_poll_consultation_status", "consultation_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    number: int
    question: str = Field(max_length=500)
    options: list[str] = Field(sa_type=sa.JSON)
    multiple: bool = False
    anonymous: bool = False
    deadline: datetime | None = _utc(nullable=True)
    status: PollStatus = Field(default=PollStatus.OPEN, sa_type=_enum(PollStatus))
    opened_by: int = Field(foreign_key="member.id")
    opened_at: datetime = _utc()
    closed_at: datetime | None = _utc(nullable=True)
    # None when the deadline closed it.
    closed_by: int | None = Field(default=None, foreign_key="member.id")
    # 隐藏结果: only the number of ballots shows until the poll closes.
    hide_results: bool = False
    # When members who had not voted were last reminded (/催投 or before the deadline).
    nudged_at: datetime | None = _utc(nullable=True)


class Ballot(SQLModel, table=True):
    """One member's choices in one poll; a later vote replaces it.

    `voter_key` is the member id for named polls and a keyed hash of (poll, member) for
    anonymous ones, where `member_id` stays empty: no readable link from ballot to member.
    """

    __table_args__ = (sa.UniqueConstraint("poll_id", "voter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    voter_key: str = Field(max_length=64)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    choices: list[int] = Field(sa_type=sa.JSON)
    # The platform time of the vote: the later one wins, whatever the arrival order.
    cast_at: datetime = _utc()


class InboundEvent(SQLModel, table=True):
    """Every message the bot took from a platform, once: the dedupe key of the design."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        sa.UniqueConstraint("platform", "message_id"),
        # A consultation's attendance: its group's events while it was open.
        sa.Index(
            "ix_inbound_event_conversation_time", "platform", "conversation_id", "received_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    message_id: str = Field(max_length=128)
    conversation_id: str = Field(max_length=128)
    sender_id: str = Field(max_length=128)
    text: str = Field(sa_type=sa.Text)
    platform_time: datetime = _utc()
    received_at: datetime = _utc()
    command: str | None = Field(default=None, max_length=32)
    outcome: str = Field(default="", max_length=16)
    # The text is the platform's transcript of a voice message, not typed.
    voice: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class OutboxRow(SQLModel, table=True):
    """A message waiting to go to a group; it stays until the platform took it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender only ever scans pending rows; sent ones pile up and stay out of it.
        # With the kind, card updates are found without walking pending acknowledgements.
        sa.Index(
            "ix_outbox_pending_kind",
            "platform",
            "conversation_id",
            "kind",
            "id",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    conversation_id: str = Field(max_length=128)
    # "text", "markdown", "ack" (coalesced with its neighbours), "card" or "card_update".
    kind: str = Field(max_length=16)
    body: str = Field(sa_type=sa.Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=_enum(OutboxStatus))
    created_at: datetime = _utc()
    not_before: datetime = _utc()
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    sent_at: datetime | None = _utc(nullable=True)


class OutboxChannel(SQLModel, table=True):
    """A conversation's recent sends: its rate window, shared by every bot process.

    The sender that locks this row (FOR UPDATE SKIP LOCKED) is the only one sending to the
    conversation until it commits, so the group's messages stay in order and within the
    limit whichever process sends them.
    """

    __tablename__ = "outbox_channel"

    platform: str = Field(primary_key=True, max_length=16)
    conversation_id: str = Field(primary_key=True, max_length=128)
    # ISO times of the latest sends, oldest first, as many as the largest limit.
    sent_at: list[str] = Field(default_factory=list, sa_type=sa.JSON)


# APScheduler's job table, declared here so Alembic owns the schema (same columns as
# apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore creates).
scheduler_jobs = sa.Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)


class ShownCard(SQLModel, table=True):
    """An interactive card shown on a platform: which card shows which card key (`poll:12`)."""

    __tablename__ = "shown_card"
    __table_args__ = (sa.UniqueConstraint("platform", "card_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    # The platform's id of the card (DingTalk outTrackId), chosen by the bot before the
    # first try, so a retried send delivers the same card rather than a second one.
    card_id: str = Field(max_length=64)
    # What the card shows: a feature's name and the thing's id, as a click on it names it.
    card_key: str = Field(max_length=64, index=True)
    conversation_id: str = Field(max_length=128)
    created_at: datetime = _utc()
    # Empty until the platform took the card; only delivered cards get updates.
    delivered_at: datetime | None = _utc(nullable=True)


class StanceMark(SQLModel, table=True):
    """A member's 赞同 (1), 反对 (-1) or 弃权 (0) on another member's statement, as in Pol.is.

    One per (statement, member): a later mark replaces the earlier one (the later platform
    time wins, whatever the arrival order), and a duplicate delivery changes nothing.
    """

    __tablename__ = "stance"
    __table_args__ = (sa.UniqueConstraint("opinion_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="opinion.id")
    member_id: int = Field(foreign_key="member.id")
    value: int
    cast_at: datetime = _utc()


class StanceDigest(SQLModel, table=True):
    """A /表态 card: the statements it dealt first, as they stood when it was posted.

    The list is kept because the card's buttons act on its first statement for a member who
    has not clicked yet: it must not move while they read it, whatever others mark.
    """

    __tablename__ = "stance_digest"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    # Opinion ids, in the order the card deals them.
    opinion_ids: list[int] = Field(sa_type=sa.JSON)
    posted_by: int = Field(foreign_key="member.id")
    posted_at: datetime = _utc()


class StatementVector(SQLModel, table=True):
    """A statement's sentence vector, computed once in the background by one model.

    `model` is the embedder's name: vectors of different models never mix in one summary.
    """

    __tablename__ = "statement_vector"
    __table_args__ = (sa.UniqueConstraint("opinion_id", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="opinion.id")
    model: str = Field(max_length=64)
    # Little-endian float32 (minutes.vector_to_bytes).
    vector: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = _utc()


class MinutesVersion(SQLModel, table=True):
    """One `/纪要` of a consultation, numbered 1, 2, 3… and never changed once written."""

    __tablename__ = "minutes_version"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    number: int
    created_at: datetime = _utc()
    # Empty when the command line built it.
    created_by: int | None = Field(default=None, foreign_key="member.id")
    # "e5" (sentence vectors + TF-IDF) or "tfidf" (words alone).
    method: str = Field(max_length=16)
    markdown: str = Field(sa_type=sa.Text)
    # The JSON of minutes.render_json (ensure_ascii=False).
    body: str = Field(sa_type=sa.Text)
    docx: bytes = Field(sa_type=sa.LargeBinary)


class MinutesRequest(SQLModel, table=True):
    """A `/纪要` waiting to be built off the message path, then posted to its group.

    The handler only writes this row; the minutes worker claims it, builds the minutes in a
    thread of its own, stores the version and queues the post. A request survives a restart.
    """

    __tablename__ = "minutes_request"
    __table_args__ = (
        sa.Index(
            "ix_minutes_request_pending",
            "id",
            sqlite_where=sa.text("done_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    platform: str = Field(max_length=16)
    conversation_id: str = Field(max_length=128)
    requested_by: int = Field(foreign_key="member.id")
    # The message's reply context, so the post answers it where the platform allows.
    reply: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    requested_at: datetime = _utc()
    # Set by the worker that builds it; an old claim (a crashed worker) may be taken over.
    claimed_at: datetime | None = _utc(nullable=True)
    done_at: datetime | None = _utc(nullable=True)
    version_id: int | None = Field(default=None, foreign_key="minutes_version.id")


class ChatFile(SQLModel, table=True):
    """A file made for a group on request (the /统计 workbook), kept as it was made so the
    outbox can post it later, retry it, and name it rather than carry its bytes."""

    __tablename__ = "chat_file"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = _utc()


class PlatformMedia(SQLModel, table=True):
    """A document a platform already holds (uploaded once), under the media id it gave: a
    retry or a restart between upload and send posts it without uploading it again."""

    __tablename__ = "platform_media"
    __table_args__ = (sa.UniqueConstraint("platform", "file_key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    # The document (`minutes:12`, `letter:3`, `chat:5`).
    file_key: str = Field(max_length=64)
    media_id: str = Field(max_length=256)
    uploaded_at: datetime = _utc()
    # When the platform forgets it (WeCom: three days); None for as long as it keeps it.
    expires_at: datetime | None = _utc(nullable=True)

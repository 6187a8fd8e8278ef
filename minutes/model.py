"""What the summarizer reads: a consultation's statements, stances and polls.

The bot builds these from its database rows. Ids are per-consultation integers, shown as `#12`.
Everything is frozen so that a summary can never change its input behind the caller's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

StatementKind = Literal["opinion", "suggestion", "remark"]
# The speaker's part in the consultation, as the bot's roles name it. The moderator and the
# secretary run the meeting: most of what they say is procedure ("请大家踊跃发言"), which the
# minutes set aside unless it argues a matter the way members do.
SpeakerRole = Literal["member", "moderator", "secretary", "liaison"]
StanceValue = Literal[1, -1, 0]

AGREE: StanceValue = 1
DISAGREE: StanceValue = -1
PASS: StanceValue = 0


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing a member said: an `/意见`, a `/建议`, or a plain remark addressed to the bot."""

    id: int
    text: str
    author: str
    author_id: str
    kind: StatementKind
    created_at: datetime
    # Member ids who seconded it with `/附议 #id`.
    seconds: tuple[str, ...] = ()
    # Withdrawn by its author or removed by the moderator: never quoted nor counted.
    retracted: bool = False
    # The author's role in this consultation: moderator or secretary if they hold either.
    role: SpeakerRole = "member"


@dataclass(frozen=True, slots=True)
class Stance:
    """A member's `/赞同`, `/反对` or `/弃权` on a statement (the latest one per member)."""

    statement_id: int
    member_id: str
    value: StanceValue


@dataclass(frozen=True, slots=True)
class PollOption:
    """One option of a poll and the ballots it received."""

    text: str
    votes: int


@dataclass(frozen=True, slots=True)
class PollSummary:
    """A poll as counted by the bot: the minutes copy these numbers, never recount them."""

    id: int
    question: str
    options: tuple[PollOption, ...]
    voters: int
    anonymous: bool = False
    multiple: bool = False
    # An open poll's counts are interim: the minutes mark it 进行中 and show no result.
    closed: bool = True


@dataclass(frozen=True, slots=True)
class ResearchNote:
    """A research note a member attached with `/调研` in 组织调研, shown in 一、概况."""

    id: int
    text: str
    author: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsultationInfo:
    """The header of the minutes: what was discussed, when, where and by whom."""

    id: int
    topic: str
    group_name: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    moderators: tuple[str, ...] = ()
    attendees: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()
    place: str | None = None
    # The plan (制订方案) as the moderator recorded it, in words ("时间：…；地点：…；部门：…").
    plan: str | None = None
    # Research notes (组织调研) in the order they were attached; plain strings are numbered
    # 1, 2, … as given.
    research_notes: tuple[str | ResearchNote, ...] = field(default=())

    def notes(self) -> tuple[ResearchNote, ...]:
        """The research notes, each with a number and (when known) its author."""
        return tuple(
            n if isinstance(n, ResearchNote) else ResearchNote(i, n)
            for i, n in enumerate(self.research_notes, start=1)
        )


@dataclass(frozen=True, slots=True)
class Signoff:
    """A leader's 签批 on the consultation or on one of its referrals, as the secretary
    recorded it after the session."""

    leader: str
    title: str
    signed_on: date
    instruction: str
    # The referral it was written on (`报送 #3`), or None for the consultation itself.
    referral: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """A document issued because of the consultation (发文); `issuer` is its label
    (党委, 党委办, 政府, 政府办 or 部门) and `number` its 文号, empty when not known."""

    issuer: str
    number: str
    title: str
    issued_on: date
    referral: int | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What came of the consultation after it: leaders' 签批 and documents issued."""

    signoffs: tuple[Signoff, ...] = ()
    documents: tuple[IssuedDocument, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.signoffs or self.documents)

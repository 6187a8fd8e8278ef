"""What a handler sees: the message, the database session, and ways to answer."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from bot.core.errors import UserError
from bot.core.files import FileRef
from bot.core.messages import IncomingMessage, Kind, ReplyRoute
from bot.core.settings import Settings
from bot.core.views import CardAnswer
from storage.consultations import current_consultation
from storage.enums import Role, Stage
from storage.groups import KnownMember, find_member, get_group
from storage.models import Consultation

# A command's handler: `async def handler(ctx, args) -> None`.
Handler = Callable[["Context", Any], Awaitable[None]]
# A job runs like a handler, without a message: `async def job(ctx, *args) -> None`.
Job = Callable[..., Coroutine[Any, Any, None]]

NO_CONSULTATION = (
    "本群当前没有进行中的协商。主持人可发送 /协商 开始 [主题] 开启（不写主题则先选题）。"
)


class CommandInfo(Protocol):
    """What a handler may read of a command (for /帮助 and /协商 状态)."""

    @property
    def name(self) -> str:
        """The Chinese name, words separated by a space (`协商 开始`)."""
        ...

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other spellings (English)."""
        ...

    @property
    def usage(self) -> str:
        """The usage line."""
        ...

    @property
    def summary(self) -> str:
        """What it does, in a few words."""
        ...

    @property
    def roles(self) -> frozenset[Role] | None:
        """Who may use it (None: everyone)."""
        ...

    @property
    def stages(self) -> frozenset[Stage] | None:
        """The stages it works in (None: it needs no open consultation)."""
        ...

    @property
    def handler(self) -> Handler:
        """The function that runs it."""
        ...

    def allowed_for(self, roles: frozenset[Role]) -> bool:
        """Whether someone with `roles` may use it."""
        ...


class CommandCatalog(Protocol):
    """What a handler may ask of the command table (the router's `CommandTable`)."""

    @property
    def commands(self) -> Sequence[CommandInfo]:
        """Every command, in the order the routers registered them."""
        ...

    def enabled_in(self, stage: Stage) -> Sequence[CommandInfo]:
        """The commands this stage enables."""
        ...

    def job_name(self, job: Job) -> str:
        """The name a job function is registered under."""
        ...


@dataclass(frozen=True, slots=True)
class GroupRef:
    """The conversation being answered: its database id and platform address."""

    id: int
    platform: str
    conversation_id: str


@dataclass(frozen=True, slots=True)
class Ack:
    """A short acknowledgement that the outbox may merge with its neighbours.

    Alone it reads `one`; several with the same `key` read "{prefix}已记录 N {unit} #refs",
    or with `who` "{prefix}已记录 N {unit}：张三 #2、#4；李四 #4" (a second or a stance says
    who stands behind a statement: that is what it records).
    """

    key: str
    one: str
    unit: str
    ref: int | None = None
    prefix: str = ""
    who: str = ""

    def to_json(self) -> dict[str, Any]:
        """The form kept in the outbox row."""
        data: dict[str, Any] = {
            "key": self.key,
            "one": self.one,
            "unit": self.unit,
            "ref": self.ref,
            "prefix": self.prefix,
        }
        if self.who:
            data["who"] = self.who
        return data

    @classmethod
    def from_json(cls, data: object) -> Ack | None:
        """Read what `to_json` wrote (None for anything else)."""
        if not isinstance(data, dict) or "key" not in data:
            return None
        ref = data.get("ref")
        return cls(
            key=str(data["key"]),
            one=str(data.get("one", "")),
            unit=str(data.get("unit", "")),
            ref=ref if isinstance(ref, int) else None,
            prefix=str(data.get("prefix", "")),
            who=str(data.get("who", "")),
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """What an outbox row carries beside its kind and body: how to answer on the platform,
    whom to @, the acknowledgement it folds with its neighbours, and the card it shows."""

    route: ReplyRoute | None = None
    mentions: tuple[str, ...] = ()
    ack: Ack | None = None
    # The card a CARD or CARD_UPDATE row is about (`poll:12`).
    card: str | None = None
    # The stored document a FILE row posts.
    file: FileRef | None = None

    def to_json(self) -> dict[str, Any]:
        """The form kept in the outbox row's payload."""
        data: dict[str, Any] = {}
        if self.route is not None:
            data["route"] = self.route.to_json()
        if self.mentions:
            data["mentions"] = list(self.mentions)
        if self.ack is not None:
            data["ack"] = self.ack.to_json()
        if self.card is not None:
            data["card"] = self.card
        if self.file is not None:
            data["file"] = self.file.to_json()
        return data

    @classmethod
    def from_json(cls, data: object) -> Envelope:
        """Read what `to_json` wrote."""
        if not isinstance(data, dict):
            return cls()
        mentions = data.get("mentions")
        card = data.get("card")
        return cls(
            route=ReplyRoute.from_json(data.get("route")),
            mentions=tuple(str(m) for m in mentions) if isinstance(mentions, list) else (),
            ack=Ack.from_json(data.get("ack")),
            card=str(card) if card is not None else None,
            file=FileRef.from_json(data.get("file")),
        )


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job to put on the scheduler once the transaction committed."""

    job_id: str
    # The name the job is registered under (`@router.job`), which the scheduler stores.
    name: str
    run_at: datetime
    args: tuple[Any, ...]


@dataclass(slots=True)
class Reply:
    """One outbox row to write at the end of the message's transaction."""

    platform: str
    conversation_id: str
    kind: Kind
    body: str
    envelope: Envelope = Envelope()
    # Meant for the sender alone (who clicked a card): kept out of the group's outbox.
    private: bool = False
    # An acknowledgement whose words wait until the transaction's rows are written (an
    # opinion's number is taken just before the commit); `settle` then completes it.
    later: Callable[[], Ack] | None = None

    def settle(self) -> None:
        """Complete the acknowledgement that waited for the rows to be written."""
        if self.later is not None:
            ack, self.later = self.later(), None
            self.body = ack.one
            self.envelope = replace(self.envelope, ack=ack)


class Context:
    """One message (or one scheduled job) being handled inside the dispatcher's transaction."""

    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        now: datetime,
        group: GroupRef | None,
        member_id: int | None,
        member_name: str,
        roles: frozenset[Role],
        message: IncomingMessage | None,
        ballot_secret: bytes,
        commands: CommandCatalog,
    ) -> None:
        self.session = session
        self.commands = commands
        self.settings = settings
        self.now = now
        self._group = group
        self.member_name = member_name
        self.roles = roles
        self.message = message
        self.replies: list[Reply] = []
        self.jobs: list[ScheduledJob] = []
        # What a click on a card changed, for the clicker's own view of it.
        self.card_answer: CardAnswer | None = None
        # The record of the message is to keep no text (a vote in an anonymous poll).
        self.forget_text = False
        self._member_id = member_id
        self._ballot_secret = ballot_secret
        self._consultation: Consultation | None = None
        self._consultation_loaded = False

    @property
    def member_id(self) -> int:
        """The sender's member id (a scheduled job has no sender)."""
        if self._member_id is None:
            raise RuntimeError("this context has no sender")
        return self._member_id

    @property
    def group(self) -> GroupRef:
        """The conversation being answered."""
        if self._group is None:
            raise RuntimeError("this context has no group yet: call use_group()")
        return self._group

    @property
    def group_id(self) -> int:
        """The group's database id."""
        return self.group.id

    def use_group(self, group_id: int) -> None:
        """Answer in this group (scheduled jobs, which arrive without a message)."""
        group = get_group(self.session, group_id=group_id)
        assert group.id is not None
        self._group = GroupRef(group.id, group.platform, group.conversation_id)
        self.forget_consultation()

    @property
    def consultation(self) -> Consultation | None:
        """The group's open consultation, looked up once per message."""
        if not self._consultation_loaded:
            self._consultation = current_consultation(self.session, group_id=self.group_id)
            self._consultation_loaded = True
        return self._consultation

    def require_consultation(self) -> Consultation:
        """The open consultation, or an answer telling how to open one."""
        consultation = self.consultation
        if consultation is None:
            raise UserError(NO_CONSULTATION)
        return consultation

    def forget_consultation(self) -> None:
        """Look the consultation up again (after opening or closing one)."""
        self._consultation_loaded = False

    def mentioned_members(self) -> list[KnownMember | None]:
        """The members the message @-mentions, in order, as the bot knows them (by their
        platform id, else by a name only one member has); None for one it does not know."""
        if self.message is None:
            return []
        return [
            find_member(
                self.session,
                platform=self.message.platform,
                user_id=mention.user_id,
                name=mention.name,
            )
            for mention in self.message.mentions
        ]

    def has_role(self, role: Role) -> bool:
        """Whether the sender holds `role`."""
        return role in self.roles

    def reply(self, text: str, *, mention: bool = True) -> None:
        """Answer the sender in the group, naming them."""
        body = text
        mentions: tuple[str, ...] = ()
        if self.message is not None and mention:
            mentions = (self.message.sender_id,)
            # A card click's answer shows in the clicker's own view: no need to name them.
            named = self.message.is_group and not self.message.interactive
            body = f"{self.member_name}：{text}" if named else text
        self._queue(Kind.TEXT, body, Envelope(self._route, mentions), private=self._interactive)

    def post(self, text: str, *, markdown: bool = False, mentions: tuple[str, ...] = ()) -> None:
        """Say something to the whole group (Markdown already escaped, with `markdown`)."""
        kind = Kind.MARKDOWN if markdown else Kind.TEXT
        self._queue(kind, text, Envelope(self._route, mentions))

    def post_card(self, text: str, *, card: str) -> None:
        """Show a card (`poll:12`) to the group: platforms with cards lay out its view as it
        stands when sent; the others show `text`."""
        self._queue(Kind.CARD, text, Envelope(self._route, card=card))

    def post_file(self, file: FileRef, *, fallback: str) -> None:
        """Post a stored document (the minutes' DOCX, a letter) to the group as a file;
        where the platform cannot take files, or refuses this one, `fallback` is shown
        instead (it says where to download it)."""
        self._queue(Kind.FILE, fallback, Envelope(self._route, file=file))

    def update_card(self, card: str) -> None:
        """Ask the platform to refresh a card already shown (a poll's tally).

        Updates are not group messages: the outbox folds them and sends them outside the
        group's message budget; platforms without cards ignore them.
        """
        self._queue(Kind.CARD_UPDATE, "", Envelope(card=card))

    def forget_message(self) -> None:
        """Keep no text of this message in its inbound record (only that it came, for the
        dedupe): what it said must not be stored (a vote in an anonymous poll)."""
        self.forget_text = True

    def answer_card(self, answer: CardAnswer) -> None:
        """Tell the member who clicked a card what their click changed (their choice)."""
        self.card_answer = answer

    def ack(self, ack: Ack | Callable[[], Ack]) -> None:
        """Acknowledge quietly: the outbox folds many acknowledgements into one message.
        A function gives the acknowledgement once the transaction's rows are written (for
        what is known only then, such as an opinion's number)."""
        if isinstance(ack, Ack):
            envelope = Envelope(self._route, ack=ack)
            self._queue(Kind.ACK, ack.one, envelope, private=self._interactive)
        else:
            envelope = Envelope(self._route)
            self._queue(Kind.ACK, "", envelope, private=self._interactive, later=ack)

    def schedule(
        self, job_id: str, job: Job | str, *, run_at: datetime, args: tuple[Any, ...]
    ) -> None:
        """Run `job(ctx, *args)` (a job function or the name it is registered under) at
        `run_at`, once this transaction has committed."""
        name = job if isinstance(job, str) else self.commands.job_name(job)
        self.jobs.append(ScheduledJob(job_id=job_id, name=name, run_at=run_at, args=args))

    def voter_key(self, poll_id: int, *, anonymous: bool, member_id: int | None = None) -> str:
        """The ballot's dedupe key of the sender (or of `member_id`): the member id, or for
        anonymous polls a keyed hash of (poll, member) that only this server can compute."""
        member = self.member_id if member_id is None else member_id
        if not anonymous:
            return f"m{member}"
        digest = hmac.new(self._ballot_secret, f"{poll_id}:{member}".encode(), hashlib.sha256)
        return digest.hexdigest()

    @property
    def _interactive(self) -> bool:
        return self.message is not None and self.message.interactive

    @property
    def _route(self) -> ReplyRoute | None:
        return self.message.route if self.message is not None else None

    def _queue(
        self,
        kind: Kind,
        body: str,
        envelope: Envelope,
        *,
        private: bool = False,
        later: Callable[[], Ack] | None = None,
    ) -> None:
        self.replies.append(
            Reply(
                platform=self.group.platform,
                conversation_id=self.group.conversation_id,
                kind=kind,
                body=body,
                envelope=envelope,
                private=private,
                later=later,
            )
        )

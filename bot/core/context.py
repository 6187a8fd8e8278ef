"""What a handler sees: the message, the database session, and ways to answer."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from bot.core.errors import UserError
from bot.core.messages import IncomingMessage
from bot.core.settings import Settings
from storage.consultations import current_consultation
from storage.enums import Role, Stage
from storage.groups import get_group
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

    Alone it reads `one`; several with the same `key` read "{prefix}已记录 N {unit} #refs".
    """

    key: str
    one: str
    unit: str
    ref: int | None = None
    prefix: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The form kept in the outbox row."""
        return {
            "key": self.key,
            "one": self.one,
            "unit": self.unit,
            "ref": self.ref,
            "prefix": self.prefix,
        }


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
    kind: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
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
            self.payload["ack"] = ack.to_payload()


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

    def has_role(self, role: Role) -> bool:
        """Whether the sender holds `role`."""
        return role in self.roles

    def reply(self, text: str, *, mention: bool = True) -> None:
        """Answer the sender in the group, naming them."""
        payload: dict[str, Any] = {}
        body = text
        if self.message is not None:
            payload["reply"] = dict(self.message.reply_context)
            if mention:
                payload["mentions"] = [self.message.sender_id]
                # A card click's answer shows in the clicker's own view: no need to name them.
                named = self.message.is_group and not self.message.interactive
                body = f"{self.member_name}：{text}" if named else text
        self._queue("text", body, payload, private=self._interactive)

    def post(self, text: str, *, kind: str = "text", payload: dict[str, Any] | None = None) -> None:
        """Say something to the whole group."""
        data = dict(payload or {})
        if self.message is not None:
            data.setdefault("reply", dict(self.message.reply_context))
        self._queue(kind, text, data)

    def ack(self, ack: Ack | Callable[[], Ack]) -> None:
        """Acknowledge quietly: the outbox folds many acknowledgements into one message.
        A function gives the acknowledgement once the transaction's rows are written (for
        what is known only then, such as an opinion's number)."""
        payload: dict[str, Any] = {}
        if self.message is not None:
            payload["reply"] = dict(self.message.reply_context)
        if isinstance(ack, Ack):
            payload["ack"] = ack.to_payload()
            self._queue("ack", ack.one, payload, private=self._interactive)
        else:
            self._queue("ack", "", payload, private=self._interactive, later=ack)

    def update(self, kind: str, payload: dict[str, Any]) -> None:
        """Ask the platform to refresh something already shown (a poll card's tally).

        Updates are not group messages: the outbox folds them and sends them outside the
        group's message budget; platforms without such things ignore them.
        """
        self._queue(kind, "", payload)

    def schedule(
        self, job_id: str, job: Job | str, *, run_at: datetime, args: tuple[Any, ...]
    ) -> None:
        """Run `job(ctx, *args)` (a job function or the name it is registered under) at
        `run_at`, once this transaction has committed."""
        name = job if isinstance(job, str) else self.commands.job_name(job)
        self.jobs.append(ScheduledJob(job_id=job_id, name=name, run_at=run_at, args=args))

    def voter_key(self, poll_id: int, *, anonymous: bool) -> str:
        """The ballot's dedupe key: the member id, or for anonymous polls a keyed hash."""
        if not anonymous:
            return f"m{self.member_id}"
        digest = hmac.new(
            self._ballot_secret, f"{poll_id}:{self.member_id}".encode(), hashlib.sha256
        )
        return digest.hexdigest()

    @property
    def _interactive(self) -> bool:
        return self.message is not None and self.message.interactive

    def _queue(
        self,
        kind: str,
        body: str,
        payload: dict[str, Any],
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
                payload=payload,
                private=private,
                later=later,
            )
        )

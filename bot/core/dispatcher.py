"""The path of one message: record, parse, check, handle, queue replies, commit; then ack.

Messages that arrive while a batch commits are handled together in the next transaction:
one commit for many messages, and each caller still learns its message is durable only
after that commit, so an adapter acknowledges the platform only then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.context import (
    NO_CONSULTATION,
    Context,
    Envelope,
    GroupRef,
    Job,
    Reply,
    ScheduledJob,
)
from bot.core.drive import drive
from bot.core.errors import UsageError, UserError
from bot.core.messages import CardAction, IncomingMessage, Kind
from bot.core.metrics import Metrics
from bot.core.ratelimit import Flood, FloodGuard
from bot.core.roles import Role, RoleBook, labels
from bot.core.router import COMMAND_PREFIXES, Command, CommandTable
from bot.core.settings import Settings
from bot.core.views import CardAnswer
from storage import events, outbox
from storage.consultations import prefetch_current
from storage.database import Database
from storage.groups import ensure_group, ensure_member, ensure_member_keeping_name, granted_roles
from storage.sql import drop_behind, flush_behind, forget_memos, memo, writes

log = logging.getLogger(__name__)

FAILED = "处理这条命令时出错了，已记录。请稍后再试，或联系管理员。"
# A message the database would not store (answered alone, its batch committed without it).
NOT_STORED = "这条消息未能保存，请修改后重新发送；如仍不行，请联系管理员。"
HINT = "发送 /帮助 查看可用的命令。"
# A remark that is not kept says so and shows at most this many commands: a phone screen.
NOT_KEPT_COMMANDS = 3
FLOODED = "发送太频繁，这一分钟内的消息不再处理，请稍后再试。"
# A click on a card of a feature the bot no longer has.
STALE_CARD = "这张卡片已失效。"


class Status(StrEnum):
    """How one message ended (stored with its inbound record, counted in the metrics)."""

    OK = "ok"
    # A second delivery of a message already handled: nothing happened again.
    DUPLICATE = "duplicate"
    # Not addressed to the bot and not a command.
    IGNORED = "ignored"
    FLOODED = "flooded"
    # Plain text that was not kept; the sender was told what to do instead.
    HINT = "hint"
    USAGE = "usage"
    REFUSED = "refused"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one message ended; `replies` are the bodies queued for it (for replay and tests)."""

    status: Status
    command: str | None = None
    replies: tuple[str, ...] = ()
    # For a click on a card: what it changed for the clicker (their choice).
    answer: CardAnswer | None = None


DUPLICATE = Outcome(Status.DUPLICATE)


RETRIES = 3
# PostgreSQL's deadlock_detected and serialization_failure.
RETRYABLE = frozenset({"40P01", "40001"})


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _conversation(message: IncomingMessage) -> tuple[str, str]:
    return (message.platform, message.conversation_id)


@dataclass
class _Lane:
    """Messages waiting for one lane's next transaction, and the task that drains them."""

    queue: list[tuple[IncomingMessage, asyncio.Future[Outcome], float]] = field(
        default_factory=list
    )
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Known:
    """A group or member already stored: its id, and the title or name stored with it."""

    id: int
    name: str


@dataclass
class _Batch:
    """What the messages of one transaction share."""

    session: Session
    received_at: datetime
    # Run every handler inside a savepoint (after an optimistic run failed).
    careful: bool
    # Groups and members found or created in this transaction: cached once it commits.
    groups: dict[tuple[str, str], _Known] = field(default_factory=dict)
    members: dict[tuple[str, str], _Known] = field(default_factory=dict)


class _RunCarefully(Exception):
    """A handler failed after writing: the batch runs again with a savepoint per handler."""


def _changed(session: Session, writes_before: int) -> bool:
    """Whether anything was written (or left pending in the session) since `writes_before`."""
    return bool(writes(session) != writes_before or session.new or session.dirty or session.deleted)


JobRunner = Callable[[ScheduledJob], None]
# (platform, conversation id) -> the kinds of outbox rows a commit wrote for it.
Touched = dict[tuple[str, str], set[str]]


@dataclass(frozen=True, slots=True)
class _Committed:
    """A batch the dispatcher committed: when, and how many messages it held."""

    at: datetime
    messages: int


class LastSecond:
    """How many messages the dispatcher committed in the last second, by the app's clock:
    background work (sentence vectors) waits while members are busy."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._batches: deque[_Committed] = deque()
        self._messages = 0

    def add(self, messages: int) -> None:
        """A batch of `messages` was committed now."""
        now = self._clock.now()
        self._batches.append(_Committed(now, messages))
        self._messages += messages
        self._forget_before(now - timedelta(seconds=1))

    def messages(self) -> int:
        """Messages committed in the last second."""
        self._forget_before(self._clock.now() - timedelta(seconds=1))
        return self._messages

    def _forget_before(self, moment: datetime) -> None:
        while self._batches and self._batches[0].at <= moment:
            self._messages -= self._batches.popleft().messages


class Dispatcher:
    """Turns incoming messages into committed state and queued replies."""

    def __init__(
        self,
        *,
        database: Database,
        commands: CommandTable,
        settings: Settings,
        clock: Clock,
        ballot_secret: bytes,
        metrics: Metrics | None = None,
        lanes: int = 1,
    ) -> None:
        self.database = database
        self.metrics = metrics or Metrics()
        self.commands = commands
        self.settings = settings
        self.clock = clock
        self.ballot_secret = ballot_secret
        self.schedule_job: JobRunner | None = None
        self.committed_listeners: list[Callable[[Touched], None]] = []
        self._roles = RoleBook(settings.roles)
        self._floods = FloodGuard(settings.limits.member_per_minute)
        self._lanes = [_Lane() for _ in range(max(1, lanes))]
        self.recent = LastSecond(clock)
        # Ids of groups and members already stored, so the hot path skips the upsert.
        self._groups: dict[tuple[str, str], _Known] = {}
        self._members: dict[tuple[str, str], _Known] = {}

    async def dispatch(self, message: IncomingMessage) -> Outcome:
        """Handle a message; returns once its effects are committed (then acknowledge)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        # One conversation always takes the same lane: its messages stay in order and never
        # wait on each other's row locks from another lane.
        lane = self._lanes[hash((message.platform, message.conversation_id)) % len(self._lanes)]
        lane.queue.append((message, future, loop.time()))
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._drain(lane))
        return await future

    async def dispatch_many(self, messages: Iterable[IncomingMessage]) -> list[Outcome]:
        """Handle several messages at once (a replay, a benchmark, a redelivered burst)."""
        return list(await asyncio.gather(*(self.dispatch(m) for m in messages)))

    async def _drain(self, lane: _Lane) -> None:
        limit = self.settings.database.batch_max
        while lane.queue:
            batch, lane.queue = lane.queue[:limit], lane.queue[limit:]
            try:
                outcomes, touched = await self.database.call(
                    self._commit_batch, [message for message, _, _ in batch], urgent=True
                )
            except Exception as error:
                # Nothing committed: the callers must not acknowledge, so the platform
                # delivers again once the database is back.
                log.exception("batch of %d messages not committed", len(batch))
                for _, future, _ in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            committed_at = asyncio.get_running_loop().time()
            for (message, future, arrived), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
                self._count(message, outcome, committed_at - arrived)
            self.metrics.batch_size.observe(len(batch))
            self.recent.add(len(batch))
            self._tell_listeners(touched)
            # Let the callers just answered run (and send their next messages) before the
            # next batch is taken, so a steady stream makes full batches, not alternate ones.
            await asyncio.sleep(0)

    def _commit_batch(self, batch: list[IncomingMessage]) -> tuple[list[Outcome], Touched]:
        """On the database thread: one transaction for the whole batch.

        Handlers first run without savepoints (they cost a sixth of the time per message);
        if one fails after writing, the whole batch is rolled back and run again with a
        savepoint around every handler, so only the failed one's writes are undone.
        """
        received_at = self.clock.now()
        # Decided once, before any attempt, so a careful run does not count a message twice.
        floods = [self._flood_check(message, received_at) for message in batch]
        try:
            return self._commit_with_retries(batch, floods, received_at)
        except (DataError, IntegrityError):
            # The database refused something of the batch outside a handler (a value it
            # cannot store). Commit each half on its own, down to single messages: if some
            # commit, the data of the others is at fault, and they are answered alone. If
            # none does, it is the database (or a batch of one): nothing is acknowledged,
            # so the platforms deliver again.
            if len(batch) == 1:
                raise
            outcomes, touched = self._commit_halves(batch, floods, received_at)
            if all(outcome is None for outcome in outcomes):
                raise
        answered: list[Outcome] = []
        for message, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                log.error(
                    "message %s refused by the database; answered alone",
                    message.message_id,
                    extra={"platform": message.platform},
                )
                outcome = Outcome(Status.ERROR, replies=(NOT_STORED,))
                _merge(touched, self._answer_alone(message, received_at))
            answered.append(outcome)
        return answered, touched

    def _commit_halves(
        self, batch: list[IncomingMessage], floods: list[Flood], received_at: datetime
    ) -> tuple[list[Outcome | None], Touched]:
        """Commit what can be committed of the batch, halving it around what the database
        refuses; None for each message it refused on its own."""
        try:
            outcomes, touched = self._commit_with_retries(batch, floods, received_at)
        except (DataError, IntegrityError):
            if len(batch) == 1:
                return [None], {}
            half = len(batch) // 2
            first, touched = self._commit_halves(batch[:half], floods[:half], received_at)
            rest, rest_touched = self._commit_halves(batch[half:], floods[half:], received_at)
            return first + rest, _merge(touched, rest_touched)
        return list(outcomes), touched

    def _answer_alone(self, message: IncomingMessage, received_at: datetime) -> Touched:
        """Tell the sender of a message the database refused that it was not kept, in a
        transaction of its own (if even that fails, the log has it)."""
        if message.interactive:
            return {}  # the clicker's card shows the outcome's reply
        named = f"{message.sender_name}：" if message.is_group and message.sender_name else ""
        reply = Reply(
            platform=message.platform,
            conversation_id=message.conversation_id,
            kind=Kind.TEXT,
            body=named + NOT_STORED,
            envelope=Envelope(message.route, (message.sender_id,)),
        )
        rows = [_row(reply, received_at)]
        try:
            with self.database.transaction() as session:
                outbox.enqueue(session, rows=rows)
        except DBAPIError:
            log.exception("could not tell the sender of %s", message.message_id)
            return {}
        return _touched(rows)

    def _commit_with_retries(
        self, batch: list[IncomingMessage], floods: list[Flood], received_at: datetime
    ) -> tuple[list[Outcome], Touched]:
        careful = False
        for attempt in range(1, RETRIES + 1):
            try:
                return self._commit_batch_once(batch, floods, received_at, careful=careful)
            except _RunCarefully:
                careful = True
            except DBAPIError as error:
                # Two transactions waited on each other (another lane or process): PostgreSQL
                # aborted this one, and running it again is the documented answer.
                if _sqlstate(error) not in RETRYABLE or attempt == RETRIES:
                    raise
                log.warning("batch of %d messages retried after %s", len(batch), _sqlstate(error))
        return self._commit_batch_once(batch, floods, received_at, careful=True)

    def _flood_check(self, message: IncomingMessage, now: datetime) -> Flood:
        """Whether the sender is over their per-minute budget (only messages to the bot count)."""
        if not (message.addressed or message.text.lstrip().startswith(COMMAND_PREFIXES)):
            return Flood.OK
        key = (message.platform, message.conversation_id, message.sender_id)
        return self._floods.check(key, now)

    def _commit_batch_once(
        self,
        messages: list[IncomingMessage],
        floods: list[Flood],
        received_at: datetime,
        *,
        careful: bool,
    ) -> tuple[list[Outcome], Touched]:
        jobs: list[ScheduledJob] = []
        with self.database.transaction() as session:
            batch = _Batch(session=session, received_at=received_at, careful=careful)
            texts = [_recorded_text(message) for message in messages]
            event_ids = events.record_inbound(
                session,
                deliveries=[
                    events.Delivery(
                        platform=message.platform,
                        message_id=message.message_id,
                        conversation_id=message.conversation_id,
                        sender_id=message.sender_id,
                        text=text[: self.settings.limits.max_text_chars * 2],
                        platform_time=message.timestamp,
                        received_at=received_at,
                        voice=message.voice,
                    )
                    for message, text in zip(messages, texts, strict=True)
                ],
            )
            self._prefetch(
                session, [m for m in messages if (m.platform, m.message_id) in event_ids]
            )
            replies: list[Reply] = []
            notes: list[tuple[int, str | None, str]] = []
            forgotten: list[int] = []
            outcomes: list[Outcome] = [DUPLICATE] * len(messages)
            answered: list[tuple[int, Context]] = []
            # Group by conversation, keeping each one's order: every transaction then takes
            # its row locks (a consultation's numbering, say) in the same order as every
            # other, so two lanes or processes cannot deadlock on them.
            for index in sorted(range(len(messages)), key=lambda i: _conversation(messages[i])):
                message, text, flood = messages[index], texts[index], floods[index]
                # pop: a second delivery of the same message in this batch is a duplicate.
                event_id = event_ids.pop((message.platform, message.message_id), None)
                if event_id is None:
                    continue
                outcome, context = drive(self._handle(batch, message, text, flood))
                outcomes[index] = outcome
                notes.append((event_id, outcome.command, outcome.status))
                if context is not None and context.forget_text:
                    forgotten.append(event_id)
                if context is not None:
                    answered.append((index, context))
                    replies.extend(context.replies)
                    jobs.extend(context.jobs)
            self._write_behind(session, careful=careful)
            for index, context in answered:  # the opinions' numbers are known now
                outcomes[index] = replace(
                    outcomes[index], replies=_settled(context), answer=context.card_answer
                )
            rows = _fold_updates(
                [_row(reply, received_at) for reply in replies if not reply.private]
            )
            outbox.enqueue(session, rows=rows)
            events.set_outcomes(session, outcomes=notes)
            events.forget_texts(session, event_ids=forgotten)
        self._groups.update(batch.groups)
        self._members.update(batch.members)
        self._schedule(jobs)
        return outcomes, _touched(rows)

    @staticmethod
    def _write_behind(session: Session, *, careful: bool) -> None:
        """Write the rows the handlers left to be written together (the votes of the batch).
        Should that fail, the batch runs again carefully, each handler's rows written in its
        own savepoint, so one bad row cannot hold back the messages of every other."""
        if careful:
            return  # written already, handler by handler
        try:
            flush_behind(session)
        except DBAPIError as error:
            if _sqlstate(error) in RETRYABLE:
                raise
            raise _RunCarefully from error

    def _prefetch(self, session: Session, messages: list[IncomingMessage]) -> None:
        """Look up the open consultation of every known group of the batch in one query, and
        let the features look up what their handlers will ask of those consultations (the
        open polls): nearly every message asks for them, and a query per group made half the
        cost of a small batch."""
        group_ids = {
            group.id for m in messages if (group := self._groups.get(_conversation(m))) is not None
        }
        if not group_ids:
            return
        prefetch_current(session, group_ids=group_ids)
        consultations = memo(session, "consultation")
        open_ids = {c.id for g in group_ids if (c := consultations[g]) is not None}
        for prefetch in self.commands.prefetchers:
            prefetch(session, open_ids)

    async def _handle(
        self, batch: _Batch, message: IncomingMessage, text: str, flood: Flood
    ) -> tuple[Outcome, Context | None]:
        if message.action is not None:
            return await self._handle_action(batch, message, message.action, flood)
        match = self.commands.match(text, bare=message.addressed)
        if match is None and not (message.addressed and text):
            return Outcome(Status.IGNORED), None
        if flood is Flood.QUIET:
            return Outcome(Status.FLOODED), None

        context = self._context(batch, message)
        if flood is Flood.WARN:
            context.reply(FLOODED)
            return Outcome(Status.FLOODED), context
        if match is None:
            consultation = context.consultation
            plain = self.commands.text_handler(consultation.stage if consultation else None)
            if plain is None:
                context.reply(self._not_kept(batch.session, context))
                return Outcome(Status.HINT), context
            status = await self._run(batch, context, plain, text, text)
            return Outcome(status, plain.name), context
        command = match.command
        if command is None:
            usage = _family_usage(match.family_name, match.family, context.roles)
            if not match.family:
                usage = _unknown(self.commands.suggest(text))
            context.reply(usage)
            return Outcome(Status.USAGE), context
        if not text.lstrip().startswith(COMMAND_PREFIXES) and not _parses(command, match.raw_args):
            # Typed without `/`, a command that cannot be read was most likely a remark that
            # starts with a command's word (`反对 延长到23点…`): keep it as one where
            # remarks are kept, rather than lose it to a usage line.
            consultation = context.consultation
            plain = self.commands.text_handler(consultation.stage if consultation else None)
            if plain is not None:
                status = await self._run(batch, context, plain, text, text)
                return Outcome(status, plain.name), context

        status = await self._run(batch, context, command, match.raw_args, text)
        return Outcome(status, command.name), context

    async def _handle_action(
        self, batch: _Batch, message: IncomingMessage, action: CardAction, flood: Flood
    ) -> tuple[Outcome, Context | None]:
        """A click on a card: run the feature's action handler like a command."""
        if flood is Flood.QUIET:
            return Outcome(Status.FLOODED), None
        context = self._context(batch, message)
        if flood is Flood.WARN:
            context.reply(FLOODED)
            return Outcome(Status.FLOODED), context
        handler = self.commands.actions.get(action.namespace)
        if handler is None:
            context.reply(STALE_CARD)
            return Outcome(Status.REFUSED), context
        status = await self._run(batch, context, handler, "", "", action=action)
        return Outcome(status, handler.name), context

    async def _run(
        self,
        batch: _Batch,
        context: Context,
        command: Command,
        raw_args: str,
        text: str,
        *,
        action: CardAction | None = None,
    ) -> Status:
        if len(text) > self.settings.limits.max_text_chars:
            context.reply(f"内容过长（最多 {self.settings.limits.max_text_chars} 字），未记录。")
            return Status.REFUSED
        refusal = self._refusal(batch.session, context, command)
        if refusal:
            context.reply(refusal)
            return Status.REFUSED
        session = batch.session
        wrote = writes(session)
        try:
            args = action if command.args_type is None else command.args_type.parse(raw_args)
            if batch.careful:
                with session.begin_nested():
                    session.connection()  # SQLAlchemy opens the SAVEPOINT lazily: open it now
                    await command.handler(context, args)
                    flush_behind(session)  # inside the savepoint, to be undone with it
            else:
                await command.handler(context, args)
                session.flush()  # this handler's ORM changes fail here, not in the next one
        except Exception as error:
            if batch.careful:
                forget_memos(session)  # they may hold what the savepoint just undid
                drop_behind(session)
            elif not isinstance(error, UserError) or _changed(session, wrote):
                raise _RunCarefully from error
            return self._answer_failure(context, command, error)
        return Status.OK

    def _answer_failure(self, context: Context, command: Command, error: Exception) -> Status:
        """Tell the sender why the command did nothing; returns the outcome status."""
        self._discard(context)
        if isinstance(error, UsageError):
            usage = f"用法：{command.usage}"
            context.reply(usage if error.message == usage else f"{error.message}\n{usage}")
            return Status.USAGE
        if isinstance(error, UserError):
            context.reply(error.message)
            return Status.REFUSED
        log.error(
            "command %s failed",
            command.name,
            exc_info=error,
            extra={
                "message_id": context.message and context.message.message_id,
                "conversation_id": context.group.conversation_id,
            },
        )
        context.reply(FAILED)
        return Status.ERROR

    def _refusal(self, session: Session, context: Context, command: Command) -> str | None:
        """Why the sender may not run the command here and now, or None."""
        if not command.allowed_for(context.roles):
            granted = granted_roles(session, member_id=context.member_id, group_id=context.group_id)
            context.roles = context.roles | granted
        if not command.allowed_for(context.roles):
            assert command.roles is not None
            return f"/{command.name} 仅限{labels(command.roles)}使用。发送 /帮助 查看你可用的命令。"
        if command.stages is None:
            return None
        consultation = context.consultation
        if consultation is None:
            return NO_CONSULTATION
        if consultation.stage not in command.stages:
            return (
                f"/{command.name} 在{labels(command.stages, quote=True)}阶段可用，"
                f"当前是「{consultation.stage.label}」阶段。"
                "发送 /帮助 查看现在能做什么。"
            )
        return None

    def _not_kept(self, session: Session, context: Context) -> str:
        """Why plain text to the bot was not kept as a remark, and what the sender can do
        in this stage instead (the commands it enables for their roles)."""
        speaking = {
            stage
            for handler in self.commands.text_handlers
            if handler.stages is not None
            for stage in handler.stages
        }
        if not speaking:
            return HINT
        consultation = context.consultation
        if consultation is None:
            return "这句话未记录：" + NO_CONSULTATION
        stage = consultation.stage
        first = min(speaking, key=lambda speaking_stage: speaking_stage.rank)
        if stage.rank < first.rank:
            why = f"发言从「{first.label}」阶段开始记录"
        else:
            why = f"发言只在{labels(speaking, quote=True)}阶段记录"
        roles = context.roles | granted_roles(
            session, member_id=context.member_id, group_id=context.group_id
        )
        usable = [c for c in self.commands.enabled_in(stage) if c.allowed_for(roles)]
        text = f"这句话未记录：现在是「{stage.label}」阶段，{why}。"
        if not usable:
            return text + "发送 /帮助 查看现在能做什么。"
        lines = [f"{c.usage}　{c.summary}" for c in usable[:NOT_KEPT_COMMANDS]]
        if len(usable) > NOT_KEPT_COMMANDS:
            lines.append("发送 /帮助 查看全部。")
        return "\n".join([text + "现在可以：", *lines])

    def _context(self, batch: _Batch, message: IncomingMessage) -> Context:
        session, now = batch.session, batch.received_at
        known_groups, known_members = batch.groups, batch.members
        group_key = (message.platform, message.conversation_id)
        group = known_groups.get(group_key) or self._groups.get(group_key)
        title = message.conversation_title
        # An empty title or name means the platform did not say (a card click carries
        # neither): keep what is stored rather than erase it.
        if group is None or (title and group.name != title):
            group_id = ensure_group(
                session,
                platform=message.platform,
                conversation_id=message.conversation_id,
                title=title,
                now=now,
            )
            group = known_groups[group_key] = _Known(group_id, title)
        member_key = (message.platform, message.sender_id)
        name = message.sender_name.strip()[:64]
        member = known_members.get(member_key) or self._members.get(member_key)
        if not name:
            if member is None:
                member = known_members[member_key] = _Known(
                    *ensure_member_keeping_name(
                        session,
                        platform=message.platform,
                        user_id=message.sender_id,
                        fallback_name=message.sender_id[:64],
                        now=now,
                    )
                )
        elif member is None or member.name != name:
            member_id = ensure_member(
                session, platform=message.platform, user_id=message.sender_id, name=name, now=now
            )
            member = known_members[member_key] = _Known(member_id, name)
        name = member.name
        return Context(
            session=session,
            settings=self.settings,
            now=now,
            group=GroupRef(group.id, message.platform, message.conversation_id),
            member_id=member.id,
            member_name=name,
            roles=self._roles.roles_of(message),
            message=message,
            ballot_secret=self.ballot_secret,
            commands=self.commands,
        )

    @staticmethod
    def _discard(context: Context) -> None:
        context.replies.clear()
        context.jobs.clear()

    def _schedule(self, jobs: list[ScheduledJob]) -> None:
        if self.schedule_job is None:
            return
        for job in jobs:
            try:
                self.schedule_job(job)
            except Exception:
                # The state is committed; the start-up pass re-creates missing jobs.
                log.exception("could not schedule %s", job.job_id)

    async def run_job(self, job: str | Job, *args: Any) -> tuple[str, ...]:
        """Run a job (a registered name, as the scheduler stores it, or a start-up job) like
        a message: one transaction, replies through the outbox."""
        if isinstance(job, str):
            func = self.commands.jobs.get(job)
            if func is None:
                log.error("scheduled job %r is not registered; skipped", job)
                return ()
        else:
            func = job

        def work() -> tuple[tuple[str, ...], Touched]:
            now = self.clock.now()
            with self.database.transaction() as session:
                context = Context(
                    session=session,
                    settings=self.settings,
                    now=now,
                    group=None,
                    member_id=None,
                    member_name="",
                    roles=frozenset(),
                    message=None,
                    ballot_secret=self.ballot_secret,
                    commands=self.commands,
                )
                drive(func(context, *args))
                flush_behind(session)
                bodies = _settled(context)
                rows = [_row(r, now) for r in context.replies]
                outbox.enqueue(session, rows=rows)
            self._schedule(context.jobs)
            return bodies, _touched(rows)

        bodies, touched = await self.database.call(work)
        self._tell_listeners(touched)
        return bodies

    def _count(self, message: IncomingMessage, outcome: Outcome, seconds: float) -> None:
        self.metrics.messages.labels(message.platform, outcome.status).inc()
        self.metrics.dispatch_seconds.labels(message.platform).observe(seconds)
        if outcome.command is not None:
            self.metrics.commands.labels(outcome.command, outcome.status).inc()

    def _tell_listeners(self, touched: Touched) -> None:
        """Tell whoever listens what a commit touched; a failing listener changes nothing
        about what was committed (and must not stop the messages behind it)."""
        for listener in self.committed_listeners:
            try:
                listener(touched)
            except Exception:
                log.exception("commit listener %r failed", listener)


def _settled(context: Context) -> tuple[str, ...]:
    """Complete the replies whose words waited for the rows to be written; their bodies."""
    for reply in context.replies:
        reply.settle()
    return tuple(reply.body for reply in context.replies if reply.body)


def _row(reply: Reply, now: datetime) -> dict[str, Any]:
    return {
        "platform": reply.platform,
        "conversation_id": reply.conversation_id,
        "kind": str(reply.kind),
        "body": reply.body,
        "payload": reply.envelope.to_json(),
        "created_at": now,
    }


def _recorded_text(message: IncomingMessage) -> str:
    """What the inbound record keeps of a message: its text (cleaned when the message was
    made), or what a click named (`poll:12 2`)."""
    if message.action is not None:
        return " ".join([message.action.key, *message.action.values])
    return message.text


def _fold_updates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep only the last update of each card: 200 votes in a batch refresh a poll's card
    once (the sender would drop the others anyway)."""
    last: dict[tuple[str, str, object], int] = {}
    for index, row in enumerate(rows):
        if row["kind"] == Kind.CARD_UPDATE:
            last[(row["platform"], row["conversation_id"], row["payload"].get("card"))] = index
    keep = set(last.values())
    return [row for i, row in enumerate(rows) if row["kind"] != Kind.CARD_UPDATE or i in keep]


def _merge(touched: Touched, more: Touched) -> Touched:
    """`touched` with the conversations and kinds of `more` added."""
    for key, kinds in more.items():
        touched.setdefault(key, set()).update(kinds)
    return touched


def _touched(rows: list[dict[str, Any]]) -> Touched:
    touched: Touched = {}
    for row in rows:
        touched.setdefault((row["platform"], row["conversation_id"]), set()).add(row["kind"])
    return touched


def _parses(command: Command, raw_args: str) -> bool:
    """Whether the command's arguments can be read from `raw_args`."""
    if command.args_type is None:
        return True
    try:
        command.args_type.parse(raw_args)
    except UsageError:
        return False
    return True


def _unknown(near: list[Command]) -> str:
    """An unknown command's answer: the nearest commands, if any come close."""
    if not near:
        return "未知命令。" + HINT
    names = " 或 ".join(f"/{command.name}" for command in near)
    return f"未知命令。你是不是想用 {names}？" + HINT


def _family_usage(name: str, family: tuple[Command, ...], roles: frozenset[Role]) -> str:
    if not family:
        return "未知命令。" + HINT
    lines = [f"/{name} 的用法："]
    lines += [f"{c.usage}　{c.summary}" for c in family if c.allowed_for(roles)]
    if len(lines) == 1:
        lines = [f"/{name} 的命令你无权使用。" + HINT]
    return "\n".join(lines)

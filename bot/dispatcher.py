"""The path of one message: record, parse, check, handle, queue replies, commit; then ack.

Messages that arrive while a batch commits are handled together in the next transaction:
one commit for many messages, and each caller still learns its message is durable only
after that commit, so an adapter acknowledges the platform only then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pkgutil import resolve_name
from typing import Any

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.context import NO_CONSULTATION, Context, GroupRef, Reply, ScheduledJob
from bot.database import Database, drive
from bot.errors import UsageError, UserError
from bot.messages import IncomingMessage
from bot.router import Command, CommandTable
from bot.text import clean_member_text
from storage import events, outbox
from storage.enums import Role, labels
from storage.groups import ensure_group, ensure_member, ensure_member_keeping_name, granted_roles

log = logging.getLogger(__name__)

FAILED = "处理这条命令时出错了，已记录。请稍后再试，或联系管理员。"
HINT = "发送 /帮助 查看可用的命令。"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one message ended; `replies` are the bodies queued for it (for replay and tests)."""

    status: str
    command: str | None = None
    replies: tuple[str, ...] = ()


DUPLICATE = Outcome("duplicate")

JobRunner = Callable[[ScheduledJob], None]


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
    ) -> None:
        self.database = database
        self.commands = commands
        self.settings = settings
        self.clock = clock
        self.ballot_secret = ballot_secret
        self.schedule_job: JobRunner | None = None
        self.committed_listeners: list[Callable[[], None]] = []
        self._config_roles = _config_roles(settings)
        self._queue: list[tuple[IncomingMessage, asyncio.Future[Outcome]]] = []
        self._draining: asyncio.Task[None] | None = None
        # Ids of groups and members already stored, so the hot path skips the upsert.
        self._groups: dict[tuple[str, str], tuple[int, str]] = {}
        self._members: dict[tuple[str, str], tuple[int, str]] = {}

    async def dispatch(self, message: IncomingMessage) -> Outcome:
        """Handle a message; returns once its effects are committed (then acknowledge)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((message, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def dispatch_many(self, messages: Iterable[IncomingMessage]) -> list[Outcome]:
        """Handle several messages at once (a replay, a benchmark, a redelivered burst)."""
        return list(await asyncio.gather(*(self.dispatch(m) for m in messages)))

    async def _drain(self) -> None:
        limit = self.settings.database.batch_max
        while self._queue:
            batch, self._queue = self._queue[:limit], self._queue[limit:]
            try:
                outcomes = await self.database.call(self._commit_batch, [m for m, _ in batch])
            except Exception as error:
                # Nothing committed: the callers must not acknowledge, so the platform
                # delivers again once the database is back.
                log.exception("batch of %d messages not committed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for listener in self.committed_listeners:
                listener()
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    def _commit_batch(self, batch: list[IncomingMessage]) -> list[Outcome]:
        """On the database thread: one transaction for the whole batch."""
        received_at = self.clock.now()
        known_groups: dict[tuple[str, str], tuple[int, str]] = {}
        known_members: dict[tuple[str, str], tuple[int, str]] = {}
        jobs: list[ScheduledJob] = []
        with self.database.transaction() as session:
            replies: list[Reply] = []
            notes: list[tuple[int, str | None, str]] = []
            outcomes = []
            for message in batch:
                outcome, event_id, context = drive(
                    self._handle(session, message, received_at, known_groups, known_members)
                )
                outcomes.append(outcome)
                if event_id is not None:
                    notes.append((event_id, outcome.command, outcome.status))
                if context is not None:
                    replies.extend(context.replies)
                    jobs.extend(context.jobs)
            rows = [_row(reply, received_at) for reply in replies if not reply.private]
            outbox.enqueue(session, rows=rows)
            events.set_outcomes(session, outcomes=notes)
        self._groups.update(known_groups)
        self._members.update(known_members)
        self._schedule(jobs)
        return outcomes

    async def _handle(
        self,
        session: Session,
        message: IncomingMessage,
        received_at: datetime,
        known_groups: dict[tuple[str, str], tuple[int, str]],
        known_members: dict[tuple[str, str], tuple[int, str]],
    ) -> tuple[Outcome, int | None, Context | None]:
        text = clean_member_text(message.text)
        event_id = events.record_inbound(
            session,
            platform=message.platform,
            message_id=message.message_id,
            conversation_id=message.conversation_id,
            sender_id=message.sender_id,
            text=text[: self.settings.limits.max_text_chars * 2],
            platform_time=message.timestamp,
            received_at=received_at,
        )
        if event_id is None:
            return DUPLICATE, None, None
        match = self.commands.match(text)
        if match is None and not (message.addressed and text):
            return Outcome("ignored"), event_id, None

        context = self._context(session, message, received_at, known_groups, known_members)
        if match is None:
            context.reply(HINT)
            return self._finish("hint", None, context), event_id, context
        command = match.command
        if command is None:
            context.reply(_family_usage(match.family_name, match.family, context.roles))
            return self._finish("usage", None, context), event_id, context

        status = await self._run(session, context, command, match.raw_args, text)
        return self._finish(status, command.name, context), event_id, context

    async def _run(
        self, session: Session, context: Context, command: Command, raw_args: str, text: str
    ) -> str:
        if len(text) > self.settings.limits.max_text_chars:
            context.reply(f"内容过长（最多 {self.settings.limits.max_text_chars} 字），未记录。")
            return "refused"
        refusal = self._refusal(session, context, command)
        if refusal:
            context.reply(refusal)
            return "refused"
        try:
            args = command.args_type.parse(raw_args)
            with session.begin_nested():
                await command.handler(context, args)
        except UsageError as error:
            self._discard(context)
            usage = f"用法：{command.usage}"
            context.reply(usage if error.message == usage else f"{error.message}\n{usage}")
            return "usage"
        except UserError as error:
            self._discard(context)
            context.reply(error.message)
            return "refused"
        except Exception:
            log.exception(
                "command %s failed",
                command.name,
                extra={
                    "message_id": context.message and context.message.message_id,
                    "conversation_id": context.group.conversation_id,
                },
            )
            self._discard(context)
            context.reply(FAILED)
            return "error"
        return "ok"

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

    def _context(
        self,
        session: Session,
        message: IncomingMessage,
        now: datetime,
        known_groups: dict[tuple[str, str], tuple[int, str]],
        known_members: dict[tuple[str, str], tuple[int, str]],
    ) -> Context:
        group_key = (message.platform, message.conversation_id)
        group = known_groups.get(group_key) or self._groups.get(group_key)
        title = message.conversation_title
        # An empty title or name means the platform did not say (a card click carries
        # neither): keep what is stored rather than erase it.
        if group is None or (title and group[1] != title):
            group_id = ensure_group(
                session,
                platform=message.platform,
                conversation_id=message.conversation_id,
                title=title,
                now=now,
            )
            group = known_groups[group_key] = (group_id, title)
        member_key = (message.platform, message.sender_id)
        name = message.sender_name.strip()[:64]
        member = known_members.get(member_key) or self._members.get(member_key)
        if not name:
            if member is None:
                member = known_members[member_key] = ensure_member_keeping_name(
                    session,
                    platform=message.platform,
                    user_id=message.sender_id,
                    fallback_name=message.sender_id[:64],
                    now=now,
                )
        elif member is None or member[1] != name:
            member_id = ensure_member(
                session, platform=message.platform, user_id=message.sender_id, name=name, now=now
            )
            member = known_members[member_key] = (member_id, name)
        name = member[1]
        roles = {Role.MEMBER, *message.platform_roles}
        for role, people in self._config_roles.items():
            if f"{message.platform}:{message.sender_id}" in people:
                roles.add(role)
        return Context(
            session=session,
            settings=self.settings,
            now=now,
            group=GroupRef(group[0], message.platform, message.conversation_id),
            member_id=member[0],
            member_name=name,
            roles=frozenset(roles),
            message=message,
            ballot_secret=self.ballot_secret,
            commands=self.commands,
        )

    @staticmethod
    def _discard(context: Context) -> None:
        context.replies.clear()
        context.jobs.clear()

    @staticmethod
    def _finish(status: str, command: str | None, context: Context) -> Outcome:
        bodies = tuple(reply.body for reply in context.replies if reply.body)
        return Outcome(status, command, bodies)

    def _schedule(self, jobs: list[ScheduledJob]) -> None:
        if self.schedule_job is None:
            return
        for job in jobs:
            try:
                self.schedule_job(job)
            except Exception:
                # The state is committed; the start-up pass re-creates missing jobs.
                log.exception("could not schedule %s", job.job_id)

    async def run_job(self, func_ref: str, *args: Any) -> tuple[str, ...]:
        """Run a scheduled job like a message: one transaction, replies through the outbox."""

        def work() -> tuple[str, ...]:
            func = resolve_name(func_ref)
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
                outbox.enqueue(session, rows=[_row(r, now) for r in context.replies])
            self._schedule(context.jobs)
            return tuple(reply.body for reply in context.replies if reply.body)

        bodies = await self.database.call(work)
        for listener in self.committed_listeners:
            listener()
        return bodies


def _row(reply: Reply, now: datetime) -> dict[str, Any]:
    return {
        "platform": reply.platform,
        "conversation_id": reply.conversation_id,
        "kind": reply.kind,
        "body": reply.body,
        "payload": reply.payload,
        "created_at": now,
    }


def _config_roles(settings: Settings) -> dict[Role, frozenset[str]]:
    return {
        Role.MODERATOR: frozenset(settings.roles.moderators),
        Role.SECRETARY: frozenset(settings.roles.secretaries),
        Role.LIAISON: frozenset(settings.roles.liaisons),
    }


def _family_usage(name: str, family: tuple[Command, ...], roles: frozenset[Role]) -> str:
    if not family:
        return "未知命令。" + HINT
    lines = [f"/{name} 的用法："]
    lines += [f"{c.usage}　{c.summary}" for c in family if c.allowed_for(roles)]
    if len(lines) == 1:
        lines = [f"/{name} 的命令你无权使用。" + HINT]
    return "\n".join(lines)

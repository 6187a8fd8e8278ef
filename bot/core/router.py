"""Commands: one Router per feature module, included by the app (as in aiogram).

A command has a Chinese name and English aliases, may have a sub-command (`/协商 开始`),
declares who may use it and in which stages, and takes typed arguments: the handler's
`args` annotation names a class whose `parse(raw)` builds it or raises UsageError.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol, Self, get_type_hints

from sqlmodel import Session

from bot.core.context import Handler, Job
from bot.core.settings import Settings
from bot.core.text import fold
from bot.core.views import CardView
from storage.enums import ALL_STAGES, Role, Stage

COMMAND_PREFIXES = ("/", "／")
# A colon typed after a command is a separator (`/意见：夜市…`), full-width or not.
_COLONS = ":："
# How many near commands an unknown one is answered with.
SUGGESTIONS = 3


class Args(Protocol):
    """Typed arguments of a command."""

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Build the arguments from what followed the command, or raise UsageError."""
        ...


# Looks up, for a batch, what a feature's handlers will ask of these open consultations.
Prefetch = Callable[[Session, set[int]], None]
# A card as it stands now, from the part of its key after the feature (`12` of `poll:12`);
# None when the thing it shows is gone.
CardViewer = Callable[[Session, str, Settings], CardView | None]


@dataclass(frozen=True, slots=True)
class Command:
    """One command the bot answers."""

    name: str
    aliases: tuple[str, ...]
    handler: Handler
    # What `parse` builds the handler's `args` from; None for a card action, whose handler
    # takes the `CardAction` itself.
    args_type: type[Args] | None
    usage: str
    summary: str
    # None means everyone in the group.
    roles: frozenset[Role] | None
    # None means it needs no open consultation; otherwise the stages it works in.
    stages: frozenset[Stage] | None
    # Stages whose entry message lists it although it works beyond them (a reply to a
    # referral is recorded in any stage, and after the close, but belongs to 办理反馈).
    listed_in: frozenset[Stage] = frozenset()

    @property
    def spellings(self) -> tuple[str, ...]:
        """The name and every alias, as they may be typed after `/`."""
        return (self.name, *self.aliases)

    def allowed_for(self, roles: frozenset[Role]) -> bool:
        """Whether someone with `roles` may use the command."""
        return self.roles is None or bool(self.roles & roles)


@dataclass
class Router:
    """The commands of one feature module."""

    name: str
    commands: list[Command] = field(default_factory=list)
    # Plain text addressed to the bot, by stage (see `on_text`).
    text_handlers: list[Command] = field(default_factory=list)
    startup: list[Job] = field(default_factory=list)
    prefetchers: list[Prefetch] = field(default_factory=list)
    # Scheduled jobs by the stable name the scheduler stores (never an import path, which a
    # rename would break for jobs already stored).
    jobs: dict[str, Job] = field(default_factory=dict)
    # Clicks on this feature's cards, by the key's first part (`poll` of `poll:12`).
    actions: dict[str, Command] = field(default_factory=dict)
    card_views: dict[str, CardViewer] = field(default_factory=dict)

    def on_action(
        self,
        namespace: str,
        *,
        name: str,
        usage: str,
        stages: Iterable[Stage] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Handle clicks on cards whose key starts with `namespace:`; the decorated
        `async def handler(ctx, action: CardAction)` runs like the command `name` (whose
        usage answers a click that cannot be read), for everyone, in `stages`."""

        def register(handler: Handler) -> Handler:
            if namespace in self.actions:
                raise ValueError(f"card action {namespace!r} registered twice")
            self.actions[namespace] = Command(
                name=name,
                aliases=(),
                handler=handler,
                args_type=None,
                usage=usage,
                summary="",
                roles=None,
                stages=None if stages is None else frozenset(stages),
            )
            return handler

        return register

    def card_view(self, namespace: str) -> Callable[[CardViewer], CardViewer]:
        """Show cards whose key starts with `namespace:` as the decorated function views
        them, at the moment each is sent or refreshed."""

        def register(viewer: CardViewer) -> CardViewer:
            self.card_views[namespace] = viewer
            return viewer

        return register

    def job(self, name: str) -> Callable[[Job], Job]:
        """Let the decorated function be scheduled (`ctx.schedule`) under `name`: the name
        is what the scheduler stores, so it must never change once jobs are stored."""

        def register(job: Job) -> Job:
            if name in self.jobs:
                raise ValueError(f"job {name!r} registered twice")
            self.jobs[name] = job
            return job

        return register

    def prefetch(self, prefetch: Prefetch) -> Prefetch:
        """Call `prefetch(session, consultation_ids)` once per batch of messages, with the
        open consultations of the batch's groups (one query for the batch, not one per
        message)."""
        self.prefetchers.append(prefetch)
        return prefetch

    def on_startup(self, job: Job) -> Job:
        """Run `job(ctx)` once when the bot starts (e.g. to re-arm deadlines)."""
        self.startup.append(job)
        return job

    def command(
        self,
        name: str,
        *aliases: str,
        usage: str,
        summary: str,
        roles: Iterable[Role] | None = None,
        stages: Iterable[Stage] | None = None,
        listed_in: Iterable[Stage] = (),
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler under `name` (words separated by a space)."""

        def register(handler: Handler) -> Handler:
            command = _command(name, aliases, handler, usage, summary, roles, stages)
            self.commands.append(replace(command, listed_in=frozenset(listed_in)))
            return handler

        return register

    def on_text(
        self, *, name: str, usage: str, summary: str, stages: Iterable[Stage]
    ) -> Callable[[Handler], Handler]:
        """Handle plain text addressed to the bot (no command) in these stages, like a
        command named `name`; in other stages such text gets a hint to use /帮助."""

        def register(handler: Handler) -> Handler:
            self.text_handlers.append(_command(name, (), handler, usage, summary, None, stages))
            return handler

        return register


def _command(
    name: str,
    aliases: tuple[str, ...],
    handler: Handler,
    usage: str,
    summary: str,
    roles: Iterable[Role] | None,
    stages: Iterable[Stage] | None,
) -> Command:
    args_type = get_type_hints(handler).get("args")
    if args_type is None or not hasattr(args_type, "parse"):
        raise TypeError(f"{handler.__name__}: annotate `args` with a class that has parse()")
    return Command(
        name=name,
        aliases=aliases,
        handler=handler,
        args_type=args_type,
        usage=usage,
        summary=summary,
        roles=None if roles is None else frozenset(roles),
        stages=None if stages is None else frozenset(stages),
    )


@dataclass(frozen=True, slots=True)
class Match:
    """A message resolved to a command (or to a command family with no sub-command)."""

    command: Command | None
    raw_args: str
    # Set when only the family matched (`/协商` alone, `/协商 飞`): its sub-commands.
    family: tuple[Command, ...] = ()
    family_name: str = ""


@dataclass
class _Node:
    command: Command | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    # The children's words by their first character: a message is compared only with the
    # words it could start with (every message of a burst passes here).
    by_first: dict[str, list[str]] = field(default_factory=dict)


class CommandTable:
    """All commands, matched by the longest name at each word.

    Chinese has no spaces, so `/投2` and `/意见建议增加…` are matched by prefix, as a
    member on a phone types them; a sub-command of a command ends where a word ends.
    """

    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: list[Command] = []
        self.text_handlers: list[Command] = []
        self.startup: list[Job] = []
        self.prefetchers: list[Prefetch] = []
        self.jobs: dict[str, Job] = {}
        self._job_names: dict[Job, str] = {}
        self.actions: dict[str, Command] = {}
        self.card_views: dict[str, CardViewer] = {}
        self._root = _Node()
        for router in routers:
            self.startup.extend(router.startup)
            self.prefetchers.extend(router.prefetchers)
            for name, job in router.jobs.items():
                if name in self.jobs:
                    raise ValueError(f"job {name!r} registered twice")
                self.jobs[name] = job
                self._job_names[job] = name
            self.text_handlers.extend(router.text_handlers)
            self.actions.update(router.actions)
            self.card_views.update(router.card_views)
            for command in router.commands:
                self.commands.append(command)
                for spelling in (command.name, *command.aliases):
                    self._insert(spelling, command)

    def _insert(self, spelling: str, command: Command) -> None:
        node = self._root
        for word in fold(spelling).split():
            if word not in node.children:
                node.by_first.setdefault(word[0], []).append(word)
            node = node.children.setdefault(word, _Node())
        if node.command is not None:
            raise ValueError(f"command {spelling!r} registered twice")
        node.command = command

    def job_name(self, job: Job) -> str:
        """The name `job` is stored under; a job must be registered with `@router.job`."""
        try:
            return self._job_names[job]
        except KeyError:
            raise LookupError(f"{job.__qualname__} is not registered with @router.job") from None

    def enabled_in(self, stage: Stage) -> list[Command]:
        """The commands this stage enables (those usable in every stage are left out), and
        those that belong to it although they work beyond it (`listed_in`)."""
        return [
            command
            for command in self.commands
            if stage in command.listed_in
            or (
                command.stages is not None
                and stage in command.stages
                and command.stages != ALL_STAGES
            )
        ]

    def text_handler(self, stage: Stage | None) -> Command | None:
        """The handler of plain addressed text in `stage` (None: no consultation open)."""
        for command in self.text_handlers:
            if command.stages is None or (stage is not None and stage in command.stages):
                return command
        return None

    def match(self, text: str, *, bare: bool = False) -> Match | None:
        """Resolve a message; None when it is not a command at all.

        With `bare` (a message addressed to the bot), a first word that is a command's name
        is that command without its `/` (`投 1`, `选题 养老`): the word must end there (a
        space, a colon or the end), so a remark that merely starts with a command's
        characters (`意见很多…`) stays a remark.
        """
        stripped = text.lstrip()
        if stripped.startswith(COMMAND_PREFIXES):
            return self._resolve(stripped[1:])
        if not bare:
            return None
        word, after = self._longest_child(self._root, stripped)
        if word is None or not _ends_word(after):
            return None
        return self._resolve(stripped)

    def suggest(self, text: str) -> list[Command]:
        """The commands nearest to an unknown one (`/意建` → /意见), best first."""
        head = fold(text.lstrip().lstrip("".join(COMMAND_PREFIXES)).lstrip())
        token = head.split()[0] if head.split() else ""
        token = token.split(":")[0]
        if not token:
            return []
        scored: dict[str, tuple[float, int, Command]] = {}
        for command in self.commands:
            for spelling in command.spellings:
                word = "".join(fold(spelling).split())
                # Chinese is typed without spaces (`/意建夜市…`): compare the start of what
                # was typed, about as long as the name, not the whole of it.
                ratio = max(
                    difflib.SequenceMatcher(None, token[:size], word).ratio()
                    for size in {len(word) - 1, len(word), len(word) + 1}
                    if size > 0
                )
                same_start = len(_common_prefix(token, word))
                best = scored.get(command.name)
                if ratio >= 0.5 and (best is None or (ratio, same_start) > best[:2]):
                    scored[command.name] = (ratio, same_start, command)
        ranked = sorted(scored.values(), key=lambda found: (-found[0], -found[1]))
        return [command for _, _, command in ranked[:SUGGESTIONS]]

    def _resolve(self, rest: str) -> Match:
        node = self._root
        path: list[str] = []
        while True:
            word, rest_after = self._longest_child(node, rest)
            if word is None:
                break
            node = node.children[word]
            path.append(word)
            rest = rest_after
        raw_args = rest.strip()
        if node is not self._root:
            raw_args = raw_args.lstrip(_COLONS).strip()
        if node.command is not None:
            return Match(command=node.command, raw_args=raw_args)
        if node is self._root:
            return Match(command=None, raw_args=raw_args)
        family = tuple(self._commands_under(node))
        return Match(command=None, raw_args=raw_args, family=family, family_name=" ".join(path))

    def _longest_child(self, node: _Node, text: str) -> tuple[str | None, str]:
        head = text.lstrip()
        if node is not self._root:
            head = head.lstrip(_COLONS).lstrip()
        folded = fold(head[:24])
        # Below a command of its own (`/选题`), a sub-command word must end where a word
        # ends: `/选题 投票方式改革` proposes a topic, `/选题 投票 #1` opens the poll. A
        # family with no command of its own (`/协商`) has nothing else to mean, so
        # `/协商开始夜市` still opens a consultation.
        bounded = node is not self._root and node.command is not None
        best: str | None = None
        for word in node.by_first.get(folded[:1], ()):
            if folded.startswith(word) and (best is None or len(word) > len(best)):
                after = folded[len(word) : len(word) + 1]
                # An ASCII alias must end at a word boundary (`/vote2` yes, `/voter` no).
                if after.isalpha() and (bounded or (word.isascii() and after.isascii())):
                    continue
                best = word
        if best is None:
            return None, text
        # fold() keeps lengths for the characters that make up command names.
        return best, head[len(best) :]

    def _commands_under(self, node: _Node) -> Iterable[Command]:
        seen: set[str] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.command is not None and current.command.name not in seen:
                seen.add(current.command.name)
                yield current.command
            stack.extend(current.children.values())


def _ends_word(after: str) -> bool:
    """Whether a command's name ends where `after` begins: at the end, a space or a colon."""
    return not after or after[0].isspace() or after[0] in _COLONS


def _common_prefix(first: str, second: str) -> str:
    size = 0
    while size < min(len(first), len(second)) and first[size] == second[size]:
        size += 1
    return first[:size]

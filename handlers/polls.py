"""/投票 /投 /结束投票 /结果: polls run by the moderator, one ballot per member."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from sqlmodel import Session

from bot.core.args import OptionalRef
from bot.core.context import NO_CONSULTATION, Ack, Context
from bot.core.errors import UsageError, UserError
from bot.core.messages import CardAction
from bot.core.router import Router
from bot.core.settings import Settings
from bot.core.text import fold, format_refs, one_line, parse_refs
from bot.core.views import CardAnswer, PollView
from handlers.shared.polls import (
    CARD,
    DEADLINE_USAGE,
    NUDGE_JOB,
    Deadline,
    arm_nudge,
    card_key,
    close_and_announce,
    nudge,
    open_and_announce_poll,
    poll_view,
    render_result,
)
from storage.consultations import get_consultation, last_closed_consultation
from storage.enums import ALL_STAGES, PollStatus, Role
from storage.models import Poll
from storage.polls import (
    get_poll,
    get_poll_by_id,
    latest_poll,
    open_polls,
    open_polls_with_deadline,
    prefetch_open_polls,
    record_ballot,
)

router = Router("polls")

QUESTION_LIMIT = 300
OPTION_LIMIT = 60
_SEPARATORS = re.compile(r"[|｜]")
_MULTIPLE = ("多选", "multiple")
_ANONYMOUS = ("匿名", "anonymous")
# Only the number of ballots shows until the poll closes (a live tally sways later voters).
_HIDDEN = ("隐藏结果", "hide")
_DEADLINE = ("截止", "deadline")
# `截止30分钟`, `截止18:00`: the word and its value typed as one (in folded text).
_GLUED_DEADLINE = re.compile(r"(?:截止|deadline)(\S+)")


@dataclass(frozen=True, slots=True)
class PollSpec:
    """`<问题> | 选项 | 选项 [多选] [匿名] [隐藏结果] [截止 <时长或时刻>]`."""

    question: str
    options: tuple[str, ...]
    multiple: bool
    anonymous: bool
    closes: Deadline | None
    hide_results: bool = False

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Split on `|`; flags follow the last option's text, each after a space."""
        kept = [piece for p in _SEPARATORS.split(raw) if (piece := " ".join(p.split()))]
        if len(kept) < 3:
            raise UsageError("请写出问题和至少两个选项，用 | 分隔。")
        multiple = anonymous = hide_results = False
        deadline_text: str | None = None
        words = kept[-1].split(" ")
        # Flags follow the last option, each after a space; never its first word: in
        # `| 记名 | 匿名` the 匿名 is an option, in `| 支持 | 反对 匿名` a flag. A deadline
        # may take several words (`截止 周五 18:00`): all those after 截止 but the flags.
        for _ in range(2):
            while len(words) > 1 and fold(words[-1]) in (*_MULTIPLE, *_ANONYMOUS, *_HIDDEN):
                multiple = multiple or fold(words[-1]) in _MULTIPLE
                anonymous = anonymous or fold(words[-1]) in _ANONYMOUS
                hide_results = hide_results or fold(words[-1]) in _HIDDEN
                words.pop()
            if deadline_text is None and (found := _deadline_words(words)) is not None:
                deadline_text, words = found
        kept[-1] = " ".join(words)
        question, options = kept[0], tuple(kept[1:])
        if len(question) > QUESTION_LIMIT:
            raise UsageError(f"问题最多 {QUESTION_LIMIT} 字。")
        if any(len(option) > OPTION_LIMIT for option in options):
            raise UsageError(f"每个选项最多 {OPTION_LIMIT} 字。")
        if len({fold(o) for o in options}) != len(options):
            raise UsageError("选项不能重复。")
        closes = Deadline.parse(deadline_text) if deadline_text else None
        return cls(question, options, multiple, anonymous, closes, hide_results)


def _deadline_words(words: list[str]) -> tuple[str, list[str]] | None:
    """The words of the deadline (after the last 截止 that is not the first word) and the
    words before it; None when there is no deadline."""
    for index in range(len(words) - 1, 0, -1):
        word = fold(words[index])
        if word in _DEADLINE and index < len(words) - 1:
            return " ".join(words[index + 1 :]), words[:index]
        if glued := _GLUED_DEADLINE.fullmatch(word):
            text = " ".join([glued.group(1), *words[index + 1 :]])
            # `截止18:00` is a deadline; `推迟截止日期 到月底` inside an option is not.
            if index == len(words) - 1 or _reads_as_deadline(text):
                return text, words[:index]
    return None


def _reads_as_deadline(text: str) -> bool:
    try:
        Deadline.parse(text)
    except UsageError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Choice:
    """`[#投票编号] 序号…` or an option's text."""

    poll_number: int | None
    numbers: tuple[int, ...]
    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Option numbers (`2`, `1 3`, `1,3`) or the option's own words."""
        text = raw.strip()
        poll_number = None
        head = re.match(r"[#＃]\s*(\d+)\s*", text)
        if head:
            poll_number = int(head.group(1))
            text = text[head.end() :]
        if not text:
            raise UsageError("请写出选项序号，如 /投 1。")
        try:
            numbers = tuple(parse_refs(text))
        except UsageError:
            return cls(poll_number, (), text)
        return cls(poll_number, numbers, "")


@router.command(
    "投票",
    "poll",
    usage=f"/投票 <问题> | 选项 | 选项 [多选] [匿名] [隐藏结果] [{DEADLINE_USAGE}]",
    summary="发起投票",
    roles=[Role.MODERATOR],
    stages=ALL_STAGES,
)
async def start_poll(ctx: Context, args: PollSpec) -> None:
    """Open a poll, announce it, and arm its deadline."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    limit = ctx.settings.limits.max_poll_options
    if len(args.options) > limit:
        raise UsageError(f"选项最多 {limit} 个。")
    open_and_announce_poll(
        ctx,
        consultation_id=consultation.id,
        question=args.question,
        options=list(args.options),
        multiple=args.multiple,
        anonymous=args.anonymous,
        deadline=args.closes.at(ctx.now, ctx.settings.zone) if args.closes else None,
        hide_results=args.hide_results,
    )


VOTE_USAGE = "/投 [#投票编号] <序号…>"


@router.command("投", "vote", usage=VOTE_USAGE, summary="参加投票（可改投）", stages=ALL_STAGES)
async def cast_vote(ctx: Context, args: Choice) -> None:
    """Record the sender's ballot, replacing their earlier one in the same poll."""
    poll = _poll_to_vote_in(ctx, args.poll_number)
    _cast(ctx, poll, _choices(poll, args))


@router.on_action(CARD, name="投", usage=VOTE_USAGE, stages=ALL_STAGES)
async def vote_by_card(ctx: Context, action: CardAction) -> None:
    """Record a click on a poll's card as the clicker's ballot, as /投 would."""
    poll = _poll_of_card(ctx, action)
    choices = _choices(poll, Choice.parse(" ".join(action.values)))
    _cast(ctx, poll, choices)
    labels = tuple(poll.options[number - 1] for number in choices)
    ctx.answer_card(CardAnswer(chosen=tuple(choices), labels=labels))


# Said with a vote typed in a group for an anonymous poll: the group saw the choice.
SEEN_IN_GROUP = "（在群里发送的选择大家都看得到，想不公开请点投票卡片投票）"


def _cast(ctx: Context, poll: Poll, choices: list[int]) -> None:
    """The member's ballot in `poll`, replacing their earlier one (typed or clicked)."""
    assert poll.id is not None
    assert ctx.message is not None
    replaced = record_ballot(
        ctx.session,
        poll_id=poll.id,
        voter_key=ctx.voter_key(poll.id, anonymous=poll.anonymous),
        member_id=None if poll.anonymous else ctx.member_id,
        choices=choices,
        # An anonymous ballot carries no time finer than its poll's (a vote's own time would
        # match the record of the message that cast it); the later arrival wins there.
        cast_at=poll.opened_at if poll.anonymous else ctx.message.timestamp,
    )
    ctx.update_card(card_key(poll))
    prefix = f"投票 #{poll.number}："
    name = ctx.member_name
    seen = SEEN_IN_GROUP if poll.anonymous and not ctx.message.interactive else ""
    seen_key = ":seen" if seen else ""

    def acknowledgement() -> Ack:
        # Whether the vote replaced an earlier one is known once the ballots are written
        # (one query for the batch). An anonymous poll's acknowledgement names nobody.
        if replaced():
            one = "1 张选票已改投" if poll.anonymous else f"{name}已改投"
            key, unit = f"revote:{poll.number}{seen_key}", "次改投"
        else:
            one = "已收到 1 张选票" if poll.anonymous else f"已记录{name}的选票"
            key, unit = f"vote:{poll.number}{seen_key}", "张选票"
        return Ack(key=key, one=prefix + one + seen, unit=unit + seen, prefix=prefix)

    ctx.ack(acknowledgement)


def _poll_of_card(ctx: Context, action: CardAction) -> Poll:
    """The open poll a card shows, if the card belongs to this conversation."""
    poll = (
        get_poll_by_id(ctx.session, poll_id=int(action.target)) if action.target.isdigit() else None
    )
    if poll is None or _group_of(ctx, poll) != ctx.group_id:
        raise UserError("这张卡片已失效，请在群里发送 /投 参加投票。")
    if poll.anonymous:
        ctx.forget_message()  # the record of the click keeps no choice
    _ensure_open(ctx, poll)
    return poll


def _group_of(ctx: Context, poll: Poll) -> int:
    return get_consultation(ctx.session, consultation_id=poll.consultation_id).group_id


def _poll_to_vote_in(ctx: Context, number: int | None) -> Poll:
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    if number is not None:
        poll = get_poll(ctx.session, consultation_id=consultation.id, number=number)
        if poll is None:
            raise UserError(f"没有投票 #{number}。")
    else:
        polls = open_polls(ctx.session, consultation_id=consultation.id)
        if len(polls) > 1:
            raise UsageError(
                f"有多个投票在进行（{format_refs(p.number for p in polls)}），"
                "请写明投票编号，如 /投 #2 1。"
            )
        latest = polls[0] if polls else latest_poll(ctx.session, consultation_id=consultation.id)
        if latest is None:
            raise UserError("当前没有进行中的投票。")
        poll = latest
    if poll.anonymous:
        ctx.forget_message()  # the record of the message keeps no choice
    _ensure_open(ctx, poll)
    return poll


def _ensure_open(ctx: Context, poll: Poll) -> None:
    if poll.status is not PollStatus.OPEN or (poll.deadline and ctx.now >= poll.deadline):
        raise UserError(f"投票 #{poll.number} 已结束，发送 /结果 #{poll.number} 查看结果。")


def _choices(poll: Poll, args: Choice) -> list[int]:
    count = len(poll.options)
    if args.text:
        wanted = fold(" ".join(args.text.split()))
        numbers = tuple(i for i, o in enumerate(poll.options, start=1) if fold(o) == wanted)
        if not numbers:
            raise UsageError(f"没有「{one_line(args.text, 20)}」这个选项。{_option_hint(poll)}")
    else:
        numbers = args.numbers
    bad = [n for n in numbers if not 1 <= n <= count]
    if bad:
        raise UsageError(f"没有第 {bad[0]} 项。{_option_hint(poll)}")
    if not poll.multiple and len(numbers) != 1:
        raise UsageError(f"投票 #{poll.number} 是单选，只能选一项。{_option_hint(poll)}")
    return sorted(set(numbers))


def _option_hint(poll: Poll) -> str:
    return "选项：" + "　".join(f"{i}. {o}" for i, o in enumerate(poll.options, start=1))


@router.command(
    "结束投票",
    "endpoll",
    usage="/结束投票 [#投票编号]",
    summary="结束投票并公布结果",
    roles=[Role.MODERATOR],
    stages=ALL_STAGES,
)
async def end_poll(ctx: Context, args: OptionalRef) -> None:
    """Close a poll by hand and post its result."""
    poll = _open_poll_named(ctx, args.number)
    if not close_and_announce(ctx, poll, closed_by=ctx.member_id):
        raise UserError(f"投票 #{poll.number} 已经结束。")


@router.command(
    "催投",
    "nudge",
    usage="/催投 [#投票编号]",
    summary="提醒还没投票的委员（@他们，每个投票每小时最多一次）",
    roles=[Role.MODERATOR],
    stages=ALL_STAGES,
)
async def remind_non_voters(ctx: Context, args: OptionalRef) -> None:
    """@ the members of the group who have not voted in the poll yet."""
    poll = _open_poll_named(ctx, args.number)
    refusal = nudge(ctx, poll)
    if refusal is not None:
        raise UserError(refusal)


def _open_poll_named(ctx: Context, number: int | None) -> Poll:
    """The poll `#number`, or the one open poll when no number is written."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    if number is not None:
        poll = get_poll(ctx.session, consultation_id=consultation.id, number=number)
        if poll is None:
            raise UserError(f"没有投票 #{number}。")
        return poll
    polls = open_polls(ctx.session, consultation_id=consultation.id)
    if not polls:
        raise UserError("当前没有进行中的投票。")
    if len(polls) > 1:
        raise UsageError(
            f"有多个投票在进行（{format_refs(p.number for p in polls)}），请写明编号。"
        )
    return polls[0]


@router.command(
    "结果",
    "result",
    usage="/结果 [#投票编号]",
    summary="查看投票结果",
    stages=None,  # also once the consultation has ended: its polls' results stay readable
)
async def show_result(ctx: Context, args: OptionalRef) -> None:
    """Show a poll's tally (the latest poll when no number is given), of the open
    consultation or, with none open, of the one that closed last."""
    consultation = ctx.consultation or last_closed_consultation(ctx.session, group_id=ctx.group_id)
    if consultation is None:
        raise UserError(NO_CONSULTATION)
    assert consultation.id is not None
    if args.number is None:
        poll = latest_poll(ctx.session, consultation_id=consultation.id)
        if poll is None:
            raise UserError("本场协商还没有投票。")
    else:
        poll = get_poll(ctx.session, consultation_id=consultation.id, number=args.number)
        if poll is None:
            raise UserError(f"没有投票 #{args.number}。")
    ctx.reply(render_result(ctx, poll), mention=False)


@router.card_view(CARD)
def view_poll_card(session: Session, target: str, settings: Settings) -> PollView | None:
    """A poll's card as it stands, when it is sent or refreshed or answers a click."""
    poll = get_poll_by_id(session, poll_id=int(target)) if target.isdigit() else None
    return poll_view(session, poll, settings.zone) if poll is not None else None


@router.prefetch
def prefetch_polls(session: Session, consultation_ids: set[int]) -> None:
    """The open polls of a batch's consultations, which every /投 of the batch asks for."""
    prefetch_open_polls(session, consultation_ids=consultation_ids)


@router.job("poll.close")
async def close_poll_at_deadline(ctx: Context, poll_id: int) -> None:
    """Scheduled at the deadline: close the poll and post its result (once, however often run)."""
    poll = get_poll_by_id(ctx.session, poll_id=poll_id)
    if poll is None or poll.status is not PollStatus.OPEN:
        return
    consultation = get_consultation(ctx.session, consultation_id=poll.consultation_id)
    ctx.use_group(consultation.group_id)
    close_and_announce(ctx, poll, closed_by=None)


@router.job(NUDGE_JOB)
async def nudge_before_deadline(ctx: Context, poll_id: int) -> None:
    """Scheduled before a poll's deadline: @ those who have not voted (once, however often
    run: the hourly limit holds)."""
    poll = get_poll_by_id(ctx.session, poll_id=poll_id)
    if poll is None or poll.status is not PollStatus.OPEN:
        return
    if poll.deadline is not None and ctx.now >= poll.deadline:
        return  # fired late (the bot was down): the result is due, not a reminder
    consultation = get_consultation(ctx.session, consultation_id=poll.consultation_id)
    ctx.use_group(consultation.group_id)
    nudge(ctx, poll)


@router.on_startup
async def rearm_poll_deadlines(ctx: Context) -> None:
    """After a restart, make sure every open poll with a deadline has its closing job."""
    for poll in open_polls_with_deadline(ctx.session):
        assert poll.id is not None
        assert poll.deadline is not None
        ctx.schedule(
            f"poll-close-{poll.id}", close_poll_at_deadline, run_at=poll.deadline, args=(poll.id,)
        )
        if poll.nudged_at is None:
            arm_nudge(ctx, poll)

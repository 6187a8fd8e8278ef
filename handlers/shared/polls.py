"""The life of a poll, shared by /投票 (handlers/polls.py) and topic polls
(handlers/topics.py): opening and announcing it, its deadline, closing it and its result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core.context import Context
from bot.core.dates import Moment
from bot.core.text import bar, format_time
from bot.core.views import PollOptionView, PollView
from storage.enums import PollStatus
from storage.groups import KnownMember, group_members
from storage.models import Poll
from storage.polls import close_poll, create_poll, mark_nudged, open_polls, tally, voted_keys

# The job that closes a poll at its deadline, registered by handlers/polls.py.
CLOSE_JOB = "poll.close"
# The first part of a poll card's key, which routes a click on it to handlers/polls.py.
CARD = "poll"
# The job that reminds those who have not voted, before the deadline.
NUDGE_JOB = "poll.nudge"
# Said of a poll whose counts stay hidden until it closes.
HIDDEN_TRAIT = "结束后公布结果"
# At most one reminder of a poll's non-voters in this long, whoever asks.
NUDGE_INTERVAL = timedelta(hours=1)
# @ at most this many in one reminder (platforms cap the @s of a message).
NUDGE_MENTIONS = 20


# What follows `截止` in /投票 and /选题 投票: `30分钟`, `18:00`, `明天下午3点`, `周五18:00`,
# `12月10日`, `3天后`, `下周一` (bot/core/dates.py reads them all).
Deadline = Moment
DEADLINE_USAGE = "截止 30分钟｜18:00｜明天下午3点｜周五18:00｜12月10日"


def open_and_announce_poll(
    ctx: Context,
    *,
    consultation_id: int,
    question: str,
    options: list[str],
    multiple: bool,
    anonymous: bool,
    deadline: datetime | None,
    hide_results: bool = False,
) -> Poll:
    """Open a poll, arm its deadline and the reminder before it, and announce it (for
    /投票 and for topic polls)."""
    poll = create_poll(
        ctx.session,
        consultation_id=consultation_id,
        question=question,
        options=options,
        multiple=multiple,
        anonymous=anonymous,
        deadline=deadline,
        member_id=ctx.member_id,
        now=ctx.now,
        hide_results=hide_results,
    )
    assert poll.id is not None
    if deadline is not None:
        ctx.schedule(f"poll-close-{poll.id}", CLOSE_JOB, run_at=deadline, args=(poll.id,))
        arm_nudge(ctx, poll)
    crowded = len(open_polls(ctx.session, consultation_id=consultation_id)) > 1
    # A platform with cards shows the poll's card; the others show the text.
    ctx.post_card(_announcement(ctx, poll, crowded=crowded), card=card_key(poll))
    return poll


def _announcement(ctx: Context, poll: Poll, *, crowded: bool) -> str:
    traits = ["多选" if poll.multiple else "单选"]
    if poll.anonymous:
        traits.append("匿名")
    if poll.hide_results:
        traits.append(HIDDEN_TRAIT)
    if poll.deadline is not None:
        traits.append(f"{format_time(poll.deadline, ctx.settings.zone)} 截止")
    lines = [f"投票 #{poll.number}：{poll.question}（{'，'.join(traits)}）"]
    lines += [f"{i}. {option}" for i, option in enumerate(poll.options, start=1)]
    target = f"#{poll.number} " if crowded else ""
    example = "1 2" if poll.multiple else "1"
    lines.append(
        f"发送 /投 {target}<序号> 投票，如 /投 {target}{example}；可改投，以最后一次为准。"
    )
    return "\n".join(lines)


PollClosedHook = Callable[[Context, Poll], None]
# What other features do when a poll closes (a topic poll settles the topic); run after
# the result is posted, whether the moderator or the deadline closed the poll.
_poll_closed_hooks: list[PollClosedHook] = []


def on_poll_closed(hook: PollClosedHook) -> PollClosedHook:
    """Run `hook(ctx, poll)` whenever a poll closes and its result has been posted."""
    _poll_closed_hooks.append(hook)
    return hook


def close_and_announce(ctx: Context, poll: Poll, *, closed_by: int | None) -> bool:
    """Close an open poll and post its result; False when it was closed already."""
    assert poll.id is not None
    if not close_poll(ctx.session, poll_id=poll.id, member_id=closed_by, now=ctx.now):
        return False
    poll.status, poll.closed_at, poll.closed_by = PollStatus.CLOSED, ctx.now, closed_by
    ctx.post(render_result(ctx, poll))
    ctx.update_card(card_key(poll))
    for hook in _poll_closed_hooks:
        hook(ctx, poll)
    return True


def render_result(ctx: Context, poll: Poll) -> str:
    """The tally as the group reads it: `支持 ██████░░░░ 66 · 33%` per option."""
    counted = tally(ctx.session, poll=poll)
    closed = poll.status is PollStatus.CLOSED
    lines = [f"投票 #{poll.number}{' 结果' if closed else '（进行中）'}：{poll.question}"]
    if poll.hide_results and not closed:
        due = f"，{format_time(poll.deadline, ctx.settings.zone)} 截止" if poll.deadline else ""
        lines.append(f"已有 {counted.voters} 人投票，结果在投票结束后公布{due}。")
        return "\n".join(lines)
    width = max(len(option) for option in poll.options)
    for option, votes in zip(poll.options, counted.votes, strict=True):
        share = votes / counted.voters if counted.voters else 0.0
        lines.append(f"{option.ljust(width, '　')} {bar(share)} {votes} · {share:.0%}")
    notes = [f"共 {counted.voters} 人投票"]
    if poll.multiple:
        notes.append("多选，占比按投票人数计")
    if poll.anonymous:
        notes.append("匿名")
    if poll.deadline is not None:
        due = format_time(poll.deadline, ctx.settings.zone)
        if not closed:
            notes.append(f"{due} 截止")
        elif poll.closed_by is None:  # nobody closed it: the deadline did
            notes.append(f"已于 {due} 截止")
    lines.append("，".join(notes))
    return "\n".join(lines)


def card_key(poll: Poll) -> str:
    """The key of the poll's card (`poll:12`), which a click on the card names."""
    return f"{CARD}:{poll.id}"


def poll_view(session: Session, poll: Poll, zone: ZoneInfo) -> PollView:
    """The poll as its card shows it now: every word of the card, for the adapters to lay
    out (DingTalk's card parameters, WeCom's vote card)."""
    counted = tally(session, poll=poll)
    closed = poll.status is PollStatus.CLOSED
    # A hidden poll's card shows no counts until it closes, only how many have voted.
    hidden = poll.hide_results and not closed
    options = []
    for number, (text, votes) in enumerate(zip(poll.options, counted.votes, strict=True), 1):
        share = votes / counted.voters if counted.voters and not hidden else 0.0
        options.append(
            PollOptionView(
                number=number,
                text=text,
                votes=0 if hidden else votes,
                share=share,
                share_text="" if hidden else f"{share:.0%}",
                tally_line=text if hidden else f"{text}　{bar(share)} {votes} · {share:.0%}",
            )
        )
    traits = ["多选" if poll.multiple else "单选"]
    if poll.anonymous:
        traits.append("匿名")
    if hidden:
        traits.append(HIDDEN_TRAIT)
    if poll.deadline is not None and not closed:
        traits.append(f"{format_time(poll.deadline, zone)} 截止")
    result = ""
    if closed and counted.voters:
        top = max(counted.votes)
        leaders = "、".join(o.text for o in options if o.votes == top)
        result = f"结果：{leaders} 得票最多（{top} 票），共 {counted.voters} 人投票"
    elif closed:
        result = "结果：无人投票"
    hint = "点击选项投票，可改选，以最后一次为准"
    if poll.multiple:
        hint = f"点击只选一项；多选请在群里发送 /投 #{poll.number} 1 3"
    return PollView(
        key=card_key(poll),
        title=f"投票 #{poll.number}",
        question=poll.question,
        options=tuple(options),
        voters=counted.voters,
        closed=closed,
        multiple=poll.multiple,
        anonymous=poll.anonymous,
        status="已结束" if closed else "进行中",
        traits=tuple(traits),
        turnout=f"{counted.voters} 人已投",
        result=result,
        hint="" if closed else hint,
        vote_label="投票",
        revote_label="改投",
        closed_label="投票已结束",
    )


def arm_nudge(ctx: Context, poll: Poll) -> None:
    """Schedule the reminder of non-voters before the poll's deadline (when configured and
    still ahead)."""
    minutes = ctx.settings.limits.nudge_minutes_before_deadline
    if poll.deadline is None or minutes <= 0 or poll.id is None:
        return
    at = poll.deadline - timedelta(minutes=minutes)
    if at > ctx.now:
        ctx.schedule(f"poll-nudge-{poll.id}", NUDGE_JOB, run_at=at, args=(poll.id,))


def non_voters(ctx: Context, poll: Poll) -> list[KnownMember]:
    """The group's members (everyone who has written in it) without a ballot in the poll.
    For an anonymous poll the keyed hashes are computed here, while it is open: who has not
    voted is said, never what anyone chose."""
    assert poll.id is not None
    voted = voted_keys(ctx.session, poll_id=poll.id)
    return [
        member
        for member in group_members(ctx.session, group_id=ctx.group_id)
        if ctx.voter_key(poll.id, anonymous=poll.anonymous, member_id=member.id) not in voted
    ]


def nudge(ctx: Context, poll: Poll) -> str | None:
    """Post one message that @s the poll's non-voters; the reason when none goes out (the
    poll closed, everyone voted, a reminder went out within the hour)."""
    assert poll.id is not None
    if poll.status is not PollStatus.OPEN:
        return f"投票 #{poll.number} 已结束。"
    missing = non_voters(ctx, poll)
    if not missing:
        return f"投票 #{poll.number}：群里的委员都已投票。"
    if not mark_nudged(ctx.session, poll_id=poll.id, since=ctx.now - NUDGE_INTERVAL, now=ctx.now):
        return f"投票 #{poll.number} 一小时内已提醒过，请稍后再催。"
    named = missing[:NUDGE_MENTIONS]
    more = f" 等 {len(missing)} 位" if len(missing) > len(named) else ""
    due = f"，{format_time(poll.deadline, ctx.settings.zone)} 截止" if poll.deadline else ""
    how = "点投票卡片或发送" if poll.anonymous else "发送"
    ctx.post(
        f"投票 #{poll.number}「{poll.question}」还有 {len(missing)} 位委员未投{due}："
        + " ".join(f"@{m.name}" for m in named)
        + f"{more}。请{how} /投 #{poll.number} <序号> 投票。",
        mentions=tuple(m.user_id for m in named),
    )
    return None

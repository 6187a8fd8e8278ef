"""/选题 /选题 投票 /定题: members propose topics, a poll or the moderator chooses one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.core.context import Ack, Context
from bot.core.errors import UsageError, UserError
from bot.core.router import Router
from bot.core.text import fold, format_refs, one_line, parse_refs
from handlers.shared.polls import (
    DEADLINE_USAGE,
    Deadline,
    close_and_announce,
    on_poll_closed,
    open_and_announce_poll,
)
from storage.consultations import get_consultation, set_topic
from storage.enums import Role, Stage
from storage.models import Poll
from storage.polls import open_polls, tally
from storage.topics import (
    add_proposal,
    find_proposal_by_text,
    get_topic_poll,
    link_topic_poll,
    list_proposals,
)

router = Router("topics")

CHOOSING = [Stage.TOPIC]
TOPIC_LIMIT = 200
TOPIC_QUESTION = "选定本次协商的议题"


def _topic_key(text: str) -> str:
    return fold("".join(text.split()))


@dataclass(frozen=True, slots=True)
class ProposedTopic:
    """A topic proposal: 2 to 200 characters."""

    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """The wording, with runs of spaces made one."""
        text = " ".join(raw.split())
        if not text:
            raise UsageError("请写出议题。")
        if len(text) > TOPIC_LIMIT:
            raise UsageError(f"议题最多 {TOPIC_LIMIT} 字。")
        return cls(text)


@router.command("选题", "topic", usage="/选题 <议题>", summary="提出协商议题", stages=CHOOSING)
async def propose_topic(ctx: Context, args: ProposedTopic) -> None:
    """Keep a topic proposal; the same wording proposed twice counts once."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    assert ctx.message is not None
    key = _topic_key(args.text)
    earlier = find_proposal_by_text(ctx.session, consultation_id=consultation.id, text_key=key)
    if earlier is not None:
        raise UserError(f"已有相同的选题 #{earlier.number}「{one_line(earlier.text)}」。")
    proposal = add_proposal(
        ctx.session,
        consultation_id=consultation.id,
        member_id=ctx.member_id,
        text=args.text,
        text_key=key,
        message_id=ctx.message.message_id,
        now=ctx.now,
    )
    ctx.ack(
        Ack(
            key="topic",
            one=f"已记录{ctx.member_name}的选题 #{proposal.number}",
            unit="个选题",
            ref=proposal.number,
        )
    )


_DEADLINE = re.compile(r"(?:截止|deadline)\s*(\S.*?)\s*$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class TopicPollSpec:
    """`[#1 #3 …] [截止 <时间>]`: which proposals (all by default), until when."""

    numbers: tuple[int, ...]
    closes: Deadline | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Proposal numbers, then an optional deadline as /投票 takes it."""
        text = raw.strip()
        closes = None
        match = _DEADLINE.search(text)
        if match:
            closes = Deadline.parse(match.group(1))
            text = text[: match.start()]
        return cls(tuple(dict.fromkeys(parse_refs(text))), closes)


def _running_topic_polls(ctx: Context, *, consultation_id: int) -> list[Poll]:
    return [
        poll
        for poll in open_polls(ctx.session, consultation_id=consultation_id)
        if poll.id is not None and get_topic_poll(ctx.session, poll_id=poll.id) is not None
    ]


@router.command(
    "选题 投票",
    "topic poll",
    usage=f"/选题 投票 [#编号…] [{DEADLINE_USAGE}]",
    summary="把选题交付投票，得票最多的成为议题",
    roles=[Role.MODERATOR],
    stages=CHOOSING,
)
async def open_topic_poll(ctx: Context, args: TopicPollSpec) -> None:
    """Put the proposals (all, or the ones named) to a poll whose winner becomes the topic."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    if consultation.topic:
        # A topic poll never replaces a topic that is set (see `settle_topic`).
        raise UserError(
            f"议题已确定：「{consultation.topic}」。"
            "如要改定，主持人可发送 /定题 #选题编号 或 /定题 <议题>。"
        )
    proposals = {p.number: p for p in list_proposals(ctx.session, consultation_id=consultation.id)}
    if not proposals:
        raise UserError("还没有委员提出选题：发送 /选题 <议题> 提出。")
    numbers = args.numbers or tuple(proposals)
    missing = [n for n in numbers if n not in proposals]
    if missing:
        raise UserError(f"没有选题 {format_refs(missing)}，请核对编号。")
    if len(numbers) < 2:
        only = proposals[numbers[0]]
        raise UserError(
            f"只有一个选题 #{only.number}，无需投票：主持人可发送 /定题 #{only.number} 确定。"
        )
    running = _running_topic_polls(ctx, consultation_id=consultation.id)
    if running:
        number = running[0].number
        raise UserError(f"选题投票 #{number} 还在进行，请先 /结束投票 #{number}。")
    limit = ctx.settings.limits.max_poll_options
    if len(numbers) > limit:
        raise UserError(f"选题有 {len(numbers)} 个，一次投票最多 {limit} 个：请写明入选的编号。")
    poll = open_and_announce_poll(
        ctx,
        consultation_id=consultation.id,
        question=TOPIC_QUESTION,
        options=[proposals[n].text for n in numbers],
        multiple=False,
        anonymous=False,
        deadline=args.closes.at(ctx.now, ctx.settings.zone) if args.closes else None,
    )
    assert poll.id is not None
    link_topic_poll(
        ctx.session,
        poll_id=poll.id,
        consultation_id=consultation.id,
        proposal_numbers=list(numbers),
    )


@on_poll_closed
def settle_topic(ctx: Context, poll: Poll) -> None:
    """When a topic poll closes, its winner becomes the topic; a tie leaves it to the moderator,
    and a topic already set (by /定题, which closes the poll) stands."""
    assert poll.id is not None
    link = get_topic_poll(ctx.session, poll_id=poll.id)
    if link is None:
        return
    consultation = get_consultation(ctx.session, consultation_id=poll.consultation_id)
    if consultation.closed_at is not None or consultation.stage is not Stage.TOPIC:
        return
    if consultation.topic:
        ctx.post(f"议题已确定为「{consultation.topic}」，投票 #{poll.number} 的结果不改变议题。")
        return
    votes = tally(ctx.session, poll=poll).votes
    best = max(votes)
    leaders = [link.proposal_numbers[i] for i, v in enumerate(votes) if v == best]
    if best == 0 or len(leaders) > 1:
        why = "无人投票" if best == 0 else f"{format_refs(leaders)} 得票相同"
        ctx.post(
            f"投票 #{poll.number} 未能选出议题（{why}）。"
            "主持人可发送 /定题 #选题编号 确定议题，或再发起 /选题 投票。"
        )
        return
    winner = poll.options[votes.index(best)]
    set_topic(ctx.session, consultation=consultation, topic=winner)
    ctx.post(
        f"议题确定：「{winner}」（选题 #{leaders[0]}，{best} 票）。"
        "主持人可发送 /协商 阶段 下一步 进入「制订方案」。"
    )


@dataclass(frozen=True, slots=True)
class TopicChoice:
    """`#2` (a proposal) or the topic's own words."""

    number: int | None
    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """A proposal number, or 1 to 200 characters of topic."""
        text = " ".join(raw.split())
        if not text:
            raise UsageError("请写出议题或选题编号。")
        if re.fullmatch(r"[#＃]\s*\d+", text):
            return cls(parse_refs(text)[0], "")
        return cls(None, ProposedTopic.parse(text).text)


@router.command(
    "定题",
    "settle",
    usage="/定题 <#选题编号|议题>",
    summary="直接确定协商议题",
    roles=[Role.MODERATOR],
    stages=CHOOSING,
)
async def settle_topic_by_hand(ctx: Context, args: TopicChoice) -> None:
    """Set the topic: a proposal by its number, or the moderator's own wording; a topic poll
    still running closes with its tally, and its result no longer decides."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    topic = args.text
    if args.number is not None:
        proposals = {
            p.number: p for p in list_proposals(ctx.session, consultation_id=consultation.id)
        }
        if args.number not in proposals:
            raise UserError(f"没有选题 #{args.number}，请核对编号。")
        topic = proposals[args.number].text
    set_topic(ctx.session, consultation=consultation, topic=topic)
    ctx.post(
        f"议题确定：「{topic}」（{ctx.member_name}）。"
        "主持人可发送 /协商 阶段 下一步 进入「制订方案」。"
    )
    for poll in _running_topic_polls(ctx, consultation_id=consultation.id):
        close_and_announce(ctx, poll, closed_by=ctx.member_id)

"""/评价: members rate each replied referral on its handling and its result, 1 to 5."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.core.args import NoArgs
from bot.core.context import NO_CONSULTATION, Ack, Context
from bot.core.errors import UsageError, UserError
from bot.core.router import Router
from handlers.shared.followup import rating_lines
from storage.consultations import last_closed_consultation
from storage.enums import Stage
from storage.ratings import has_rated, record_rating
from storage.referrals import find_referral, standing_reply

router = Router("evaluation")

EVALUATING = [Stage.EVALUATE]
COMMENT_LIMIT = 500
_HEAD = re.compile(r"\s*[#＃]?\s*(\d{1,9})\s*(.*)$", re.DOTALL)  # "#" optional, as /附议 3
_NAMED = re.compile(r"(办理|结果)\s*[:：]?\s*(\d+)\s*分?")
_BARE = re.compile(r"(\d+)\s*分?\s+(\d+)\s*分?(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class RatingSpec:
    """`#3 办理 5 结果 4 [意见…]` or `#3 5 4 [意见…]`."""

    number: int
    handling: int
    result: int
    comment: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """A referral number, two scores from 1 to 5, and an optional comment."""
        head = _HEAD.match(raw)
        if not head:
            raise UsageError("请写出报送编号，如 /评价 #3 办理 5 结果 4。")
        rest = head.group(2).strip()
        scores: dict[str, int] = {}
        while match := _NAMED.match(rest):
            if match.group(1) in scores:
                raise UsageError(f"「{match.group(1)}」只能打一次分。")
            scores[match.group(1)] = int(match.group(2))
            rest = rest[match.end() :].lstrip()
        if not scores and (bare := _BARE.match(rest)):
            scores = {"办理": int(bare.group(1)), "结果": int(bare.group(2))}
            rest = rest[bare.end() :]
        if set(scores) != {"办理", "结果"}:
            raise UsageError("请分别为「办理」和「结果」打分，如 /评价 #3 办理 5 结果 4。")
        if any(not 1 <= score <= 5 for score in scores.values()):
            raise UsageError("评分是 1 到 5 的整数。")
        comment = rest.strip()
        if len(comment) > COMMENT_LIMIT:
            raise UsageError(f"评价意见最多 {COMMENT_LIMIT} 字。")
        return cls(int(head.group(1)), scores["办理"], scores["结果"], comment)


@router.command(
    "评价",
    "rate",
    usage="/评价 #报送编号 办理 <1-5> 结果 <1-5> [意见]",
    summary="为答复的办理和结果打分（可改评）",
    # A reply may come in any later stage, or after the close: it can be rated then.
    stages=None,
    listed_in=EVALUATING,
)
async def rate_referral(ctx: Context, args: RatingSpec) -> None:
    """Keep the member's rating of a replied referral, replacing their earlier one."""
    assert ctx.message is not None
    # Numbered per group, as /反馈 finds it: the number on the letter, whichever
    # consultation it came from.
    referral = find_referral(ctx.session, group_id=ctx.group_id, number=args.number)
    if referral is None:
        raise UserError(f"本群没有报送 #{args.number}，请核对编号。")
    assert referral.id is not None
    if standing_reply(ctx.session, referral_id=referral.id) is None:
        raise UserError(f"报送 #{referral.number} 还没有答复，答复后才能评价。")
    again = has_rated(ctx.session, referral_id=referral.id, member_id=ctx.member_id)
    kept = record_rating(
        ctx.session,
        referral_id=referral.id,
        member_id=ctx.member_id,
        handling=args.handling,
        result=args.result,
        comment=args.comment,
        rated_at=ctx.message.timestamp,
    )
    if not kept:
        ctx.reply(f"你对报送 #{referral.number} 有一条更晚的评价，以那一条为准。")
        return
    prefix = f"报送 #{referral.number}："
    scores = f"办理 {args.handling}，结果 {args.result}"
    ctx.ack(
        Ack(
            key=f"rating:{referral.number}",
            one=f"{prefix}已{'更新' if again else '记录'}{ctx.member_name}的评价（{scores}）",
            unit="份评价",
            prefix=prefix,
        )
    )


@router.command(
    "评价 汇总",
    "rate summary",
    usage="/评价 汇总",
    summary="查看各报送件的平均评分",
    stages=None,
    listed_in=EVALUATING,
)
async def show_ratings(ctx: Context, args: NoArgs) -> None:
    """Show the average ratings of every replied referral of the open consultation, or of
    the one that closed last."""
    consultation = ctx.consultation or last_closed_consultation(ctx.session, group_id=ctx.group_id)
    if consultation is None:
        raise UserError(NO_CONSULTATION)
    assert consultation.id is not None
    lines = rating_lines(ctx, consultation.id)
    if not lines:
        raise UserError("本场协商还没有已答复的报送。")
    ctx.reply("\n".join(["评价汇总：", *lines]), mention=False)

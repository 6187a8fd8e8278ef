"""/意见 /建议 /附议 /撤回 /赞同 /反对 /弃权, and plain remarks: what members say during 开展协商,
and who stands behind it."""

from __future__ import annotations

from bot.core.args import Refs, Text
from bot.core.context import Ack, Context
from bot.core.errors import UserError
from bot.core.router import Router
from bot.core.text import format_refs
from handlers.shared.stances import (
    keep_mark,
    post_statement_card,
    refresh_cards,
    statement_cards_shown,
)
from storage.enums import OpinionKind, Stage, StanceValue
from storage.models import Opinion
from storage.opinions import (
    add_second,
    get_opinions,
    keep_opinion,
    retract_opinion,
    stance_of,
)

router = Router("opinions")

SPEAKING = [Stage.CONSULT]


@router.command("意见", "opinion", usage="/意见 <内容>", summary="发表意见", stages=SPEAKING)
async def post_opinion(ctx: Context, args: Text) -> None:
    """Keep an opinion and acknowledge it with its number."""
    _keep(ctx, args.text, OpinionKind.OPINION)


@router.command(
    "建议", "suggest", "suggestion", usage="/建议 <内容>", summary="提出建议", stages=SPEAKING
)
async def post_suggestion(ctx: Context, args: Text) -> None:
    """Keep a suggestion (it may later be referred to a department)."""
    _keep(ctx, args.text, OpinionKind.SUGGESTION)


@router.on_text(name="发言", usage="直接对协商助手说", summary="发言（记入纪要）", stages=SPEAKING)
async def keep_remark(ctx: Context, args: Text) -> None:
    """Keep plain text addressed to the bot as a remark: the minutes are built from what
    was said, and members say most of it without a command."""
    _keep(ctx, args.text, OpinionKind.REMARK)


def _keep(ctx: Context, text: str, kind: OpinionKind) -> None:
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    assert ctx.message is not None
    opinion = keep_opinion(
        ctx.session,
        consultation_id=consultation.id,
        member_id=ctx.member_id,
        kind=kind,
        text=text,
        message_id=ctx.message.message_id,
        now=ctx.message.timestamp,
    )
    name = ctx.member_name
    if kind is not OpinionKind.REMARK and statement_cards_shown(ctx):
        # Configured to answer each statement with its card of stance buttons (off by
        # default: a card per statement floods a large group, and cards are not folded).
        post_statement_card(
            ctx,
            consultation_id=consultation.id,
            kept=opinion,
            text=lambda number: f"已记录{name}的{kind.label} #{number}",
        )
        return
    ctx.ack(  # the number is taken with the batch's other opinions, before the commit
        lambda: Ack(
            key=kind.value,
            one=f"已记录{name}的{kind.label} #{opinion.number}",
            unit=f"条{kind.label}",
            ref=opinion.number,
        )
    )


def _find(ctx: Context, numbers: tuple[int, ...], *, withdrawn_hint: str = "") -> list[Opinion]:
    """The live opinions with these numbers, or an answer naming the ones that are not."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    found = get_opinions(ctx.session, consultation_id=consultation.id, numbers=list(numbers))
    missing = [n for n in numbers if n not in found]
    if missing:
        raise UserError(f"没有找到 {format_refs(missing)}，请核对编号。")
    withdrawn = [n for n in numbers if found[n].retracted_at is not None]
    if withdrawn:
        raise UserError(f"{format_refs(withdrawn)} 已被撤回{withdrawn_hint}。")
    return [found[n] for n in numbers]


@router.command(
    "附议", "second", usage="/附议 #编号 [#编号…]", summary="附议他人的意见或建议", stages=SPEAKING
)
async def second_opinion(ctx: Context, args: Refs) -> None:
    """Second other members' opinions; each member counts once per opinion."""
    opinions = _find(ctx, args.numbers)
    own = [o.number for o in opinions if o.member_id == ctx.member_id]
    if own:
        raise UserError(f"不能附议自己的意见（{format_refs(own)}）。")
    added = []
    for opinion in opinions:
        assert opinion.id is not None
        if add_second(ctx.session, opinion_id=opinion.id, member_id=ctx.member_id, now=ctx.now):
            added.append(opinion.number)
    if not added:
        raise UserError(f"你已附议过 {format_refs(args.numbers)}。")
    for number in added:
        ctx.ack(
            Ack(
                key="second",
                one=f"已记录{ctx.member_name}对 #{number} 的附议",
                unit="次附议",
                ref=number,
                who=ctx.member_name,
            )
        )


@router.command(
    "撤回", "retract", usage="/撤回 #编号", summary="撤回自己的意见或建议", stages=SPEAKING
)
async def retract(ctx: Context, args: Refs) -> None:
    """Withdraw one's own opinions; others' stay untouched."""
    opinions = _find(ctx, args.numbers)
    others = [o.number for o in opinions if o.member_id != ctx.member_id]
    if others:
        raise UserError(f"只能撤回自己的意见，{format_refs(others)} 不是你发表的。")
    for opinion in opinions:
        retract_opinion(ctx.session, opinion=opinion, now=ctx.now)
        refresh_cards(ctx, opinion)  # its cards stop offering it
    ctx.reply(f"已撤回 {format_refs(args.numbers)}。")


@router.command(
    "赞同", "agree", usage="/赞同 #编号 [#编号…]", summary="赞同他人的发言", stages=SPEAKING
)
async def agree(ctx: Context, args: Refs) -> None:
    """Mark agreement with other members' statements (Pol.is style, one mark each)."""
    _mark(ctx, args.numbers, StanceValue.AGREE)


@router.command(
    "反对", "disagree", usage="/反对 #编号 [#编号…]", summary="反对他人的发言", stages=SPEAKING
)
async def disagree(ctx: Context, args: Refs) -> None:
    """Mark disagreement with other members' statements."""
    _mark(ctx, args.numbers, StanceValue.DISAGREE)


@router.command(
    "弃权", "pass", usage="/弃权 #编号 [#编号…]", summary="对他人的发言表示弃权", stages=SPEAKING
)
async def abstain(ctx: Context, args: Refs) -> None:
    """Mark that one read a statement and takes no side (it still counts as seen)."""
    _mark(ctx, args.numbers, StanceValue.PASS)


def _mark(ctx: Context, numbers: tuple[int, ...], value: StanceValue) -> None:
    """Record the sender's mark on each statement; a new mark replaces the earlier one."""
    assert ctx.message is not None
    opinions = _find(ctx, numbers, withdrawn_hint="，不能表态")
    own = [o.number for o in opinions if o.member_id == ctx.member_id]
    if own:
        raise UserError(f"不能对自己的发言表态（{format_refs(own)}）。")
    earlier = {}
    for opinion in opinions:
        assert opinion.id is not None
        earlier[opinion.number] = stance_of(
            ctx.session, opinion_id=opinion.id, member_id=ctx.member_id
        )
    if all(earlier[o.number] == value for o in opinions):
        raise UserError(f"你已{value.label}过 {format_refs(numbers)}。")
    changed: list[str] = []
    for opinion in opinions:
        before = earlier[opinion.number]
        if before == value:
            continue
        # The same mark a click on a stance card keeps (handlers/stances.py).
        keep_mark(ctx, opinion, value, before=before)
        if before is not None:
            changed.append(f"#{opinion.number} 由{StanceValue(before).label}改为{value.label}")
    if changed:
        ctx.reply("已更改表态：" + "，".join(changed) + "。")

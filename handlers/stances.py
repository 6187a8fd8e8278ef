"""/表态 and the stance cards: 赞同 / 反对 / 弃权 buttons on statements, dealt as Pol.is deals
them (the fewest-marked first, one at a time, the next after each click). A click is the
same mark as the typed /赞同 #12 (handlers/opinions.py): one per member per statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Self

from sqlmodel import Session

from bot.core.args import NoArgs
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.messages import CardAction
from bot.core.router import Router
from bot.core.settings import Settings
from bot.core.views import CardAnswer, Deal, StanceView
from handlers.shared.stances import (
    DIGEST_CARD,
    FINISHED,
    MORE,
    SPEAKING,
    STATEMENT_CARD,
    deal_next,
    digest_card_key,
    keep_mark,
    stance_of_button,
    stance_view,
    statement_card_key,
    statement_line,
)
from storage.consultations import get_consultation
from storage.enums import Role, StanceValue
from storage.groups import granted_roles
from storage.models import Consultation, Opinion, StanceDigest
from storage.opinions import get_opinions, stance_of
from storage.stances import (
    add_digest,
    fewest_marked,
    get_digest,
    latest_digest,
    statement_marks,
)

router = Router("stances")

CLICK_USAGE = "点击卡片上的赞同、反对或弃权；也可发送 /赞同 #编号"
STALE = "这张卡片已失效，请发送 /表态 领取新的卡片，或发送 /赞同 #编号 表态。"
DIGEST_HINT = "点击赞同、反对或弃权，表态后自动换下一条；可改，以最后一次为准"
STATEMENT_HINT = "点击赞同、反对或弃权表态；可改，以最后一次为准"
WITHDRAWN = "这条发言已撤回，不能再表态。"


@router.command(
    "表态",
    "stances",
    usage="/表态",
    summary="领取表态最少的几条意见和建议，逐条赞同、反对或弃权",
    stages=[SPEAKING],
)
async def deal_statements(ctx: Context, args: NoArgs) -> None:
    """Post a card of the statements with the fewest marks, for members to mark one by one."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    settings = ctx.settings.stances
    cards = ctx.settings.platforms.shows_stance_cards(ctx.group.platform)
    latest = latest_digest(ctx.session, consultation_id=consultation.id)
    every = timedelta(minutes=settings.digest_every_minutes)
    if latest is not None and ctx.now - latest.posted_at < every and not _moderates(ctx):
        # In a group of 200 every member may ask at once: one card serves them all.
        minutes = int((ctx.now - latest.posted_at).total_seconds() // 60)
        ago = f"{minutes} 分钟前" if minutes else "刚刚"
        what = "表态卡片" if cards else "待表态的清单"
        raise UserError(f"{what}{ago}发过，请向上翻找；也可发送 /赞同 #编号 表态。")
    opinion_ids = fewest_marked(
        ctx.session, consultation_id=consultation.id, limit=settings.digest_size
    )
    if not opinion_ids:
        raise UserError("还没有可以表态的意见或建议。")
    digest = add_digest(
        ctx.session,
        consultation_id=consultation.id,
        opinion_ids=opinion_ids,
        member_id=ctx.member_id,
        now=ctx.now,
    )
    assert digest.id is not None
    ctx.post_card(_digest_text(ctx.session, opinion_ids), card=digest_card_key(digest.id))


def _moderates(ctx: Context) -> bool:
    if ctx.has_role(Role.MODERATOR):
        return True
    granted = granted_roles(ctx.session, member_id=ctx.member_id, group_id=ctx.group_id)
    return Role.MODERATOR in granted


def _digest_text(session: Session, opinion_ids: list[int]) -> str:
    """The /表态 card as text, for platforms that show no cards."""
    found = statement_marks(session, opinion_ids=opinion_ids)
    lines = [statement_line(found[i]) for i in opinion_ids]
    first = lines[0].ref
    return "\n".join(
        [
            "请对以下意见和建议表态（表态最少的在前）：",
            *(f"{line.line}　{line.marks}" for line in lines),
            f"发送 /赞同 {first}、/反对 {first} 或 /弃权 {first} 表态，可一次写多个编号；"
            "可改，以最后一次为准。",
        ]
    )


@dataclass(frozen=True, slots=True)
class Click:
    """What a click on a stance card says: a stance (or `more`), and the statement the
    clicker saw (None when the platform could not say: the card's first statement)."""

    stance: StanceValue | None
    number: int | None

    @classmethod
    def of(cls, action: CardAction) -> Self:
        """Read `(button value, statement number)` as the adapters pass them."""
        values = [*action.values, "", ""]
        stance = stance_of_button(values[0])
        if stance is None and values[0] != MORE.value:
            raise UserError("请点击卡片上的赞同、反对或弃权。")
        number = int(values[1]) if _is_number(values[1]) and int(values[1]) > 0 else None
        return cls(stance, number)


def _is_number(text: str) -> bool:
    """An id a click may name: plain ASCII digits (`isdigit` alone takes `²`, which `int`
    refuses), short enough for the database's integers."""
    return text.isascii() and text.isdigit() and len(text) <= 9


@router.on_action(DIGEST_CARD, name="表态", usage=CLICK_USAGE, stages=[SPEAKING])
async def mark_on_digest(ctx: Context, action: CardAction) -> None:
    """A click on a /表态 card: mark the statement the clicker saw, then deal them the next
    one they have not marked (the card's own first, then the fewest-marked of the rest)."""
    digest = _digest_of(ctx, action)
    click = Click.of(action)
    number = click.number
    if number is None:
        # Before their first click everyone sees the card's first live statement.
        lead = _digest_view(ctx.session, digest).lead
        number = lead.number if lead is not None else None
    label = ""
    if click.stance is not None and number is not None:
        _mark_clicked(ctx, digest.consultation_id, number, click.stance, dealing=True)
        label = click.stance.label
    deal = deal_next(ctx, consultation_id=digest.consultation_id, first=digest.opinion_ids)
    if deal.statement is None and click.stance is None:
        ctx.reply("暂时没有新的发言可表态。")
    ctx.answer_card(CardAnswer(chosen=(), labels=(label,) if label else (), deal=deal))


@router.on_action(STATEMENT_CARD, name="表态", usage=CLICK_USAGE, stages=[SPEAKING])
async def mark_on_statement(ctx: Context, action: CardAction) -> None:
    """A click on one statement's card: mark it, as /赞同 #12 would."""
    opinion = _opinion_of(ctx, action)
    assert opinion.id is not None
    click = Click.of(action)
    if click.stance is not None:
        _mark_clicked(ctx, opinion.consultation_id, opinion.number, click.stance, dealing=False)
    now = stance_of(ctx.session, opinion_id=opinion.id, member_id=ctx.member_id)
    line = statement_line(statement_marks(ctx.session, opinion_ids=[opinion.id])[opinion.id])
    stance = StanceValue(now).label if now is not None else ""
    ctx.answer_card(
        CardAnswer(
            chosen=(),
            labels=(stance,) if stance else (),
            deal=Deal(statement=None if opinion.retracted_at else line, stance=stance),
        )
    )


def _mark_clicked(
    ctx: Context, consultation_id: int, number: int, value: StanceValue, *, dealing: bool
) -> None:
    """Mark statement #number as the clicker chose; what cannot be marked is said on their
    card rather than refused (a /表态 card then deals them the next statement)."""
    then = "，已换下一条" if dealing else ""
    found = get_opinions(ctx.session, consultation_id=consultation_id, numbers=[number])
    opinion = found.get(number)
    if opinion is None:
        ctx.reply(f"没有找到 #{number}{then}。")
        return
    assert opinion.id is not None
    if opinion.retracted_at is not None:
        ctx.reply(f"#{number} 已被撤回，不能表态{then}。")
        return
    if opinion.member_id == ctx.member_id:
        ctx.reply(f"不能对自己的发言表态（#{number}）{then}。")
        return
    before = stance_of(ctx.session, opinion_id=opinion.id, member_id=ctx.member_id)
    if before == value:
        ctx.reply(f"你已{value.label}过 #{number}{then}。")
        return
    keep_mark(ctx, opinion, value, before=before)
    if before is not None:
        ctx.reply(f"已更改表态：#{number} 由{StanceValue(before).label}改为{value.label}。")


def _digest_of(ctx: Context, action: CardAction) -> StanceDigest:
    """The /表态 card clicked, if it belongs to this conversation's open consultation."""
    target = action.target
    digest = get_digest(ctx.session, digest_id=int(target)) if _is_number(target) else None
    if digest is None or not _in_this_group(ctx, digest.consultation_id):
        raise UserError(STALE)
    return digest


def _opinion_of(ctx: Context, action: CardAction) -> Opinion:
    """The statement whose card was clicked, if it belongs to this conversation."""
    target = action.target
    opinion = ctx.session.get(Opinion, int(target)) if _is_number(target) else None
    if opinion is None or not _in_this_group(ctx, opinion.consultation_id):
        raise UserError(STALE)
    return opinion


def _in_this_group(ctx: Context, consultation_id: int) -> bool:
    """Whether the consultation is the group's open one (a card of an earlier consultation
    takes no more stances: its statements are in its minutes already)."""
    consultation = ctx.consultation
    return consultation is not None and consultation.id == consultation_id


@router.card_view(DIGEST_CARD)
def view_digest_card(session: Session, target: str, settings: Settings) -> StanceView | None:
    """A /表态 card as it stands, when it is sent or refreshed or answers a click."""
    digest = get_digest(session, digest_id=int(target)) if _is_number(target) else None
    return _digest_view(session, digest) if digest is not None else None


def _digest_view(session: Session, digest: StanceDigest) -> StanceView:
    assert digest.id is not None
    return stance_view(
        session,
        key=digest_card_key(digest.id),
        title=f"请对这 {len(digest.opinion_ids)} 条意见和建议表态",
        consultation_id=digest.consultation_id,
        opinion_ids=list(digest.opinion_ids),
        hint=DIGEST_HINT,
        finished=FINISHED,
        more=MORE,
    )


@router.card_view(STATEMENT_CARD)
def view_statement_card(session: Session, target: str, settings: Settings) -> StanceView | None:
    """One statement's card as it stands (sent as the answer to its /意见 or /建议)."""
    opinion = session.get(Opinion, int(target)) if _is_number(target) else None
    if opinion is None:
        return None
    assert opinion.id is not None
    consultation: Consultation = get_consultation(session, consultation_id=opinion.consultation_id)
    assert consultation.id is not None
    return stance_view(
        session,
        key=statement_card_key(opinion.id),
        title=f"{opinion.kind.label} #{opinion.number}",
        consultation_id=consultation.id,
        opinion_ids=[opinion.id],
        hint=STATEMENT_HINT,
        finished=WITHDRAWN,
        more=None,
    )

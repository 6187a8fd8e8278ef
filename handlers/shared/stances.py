"""Stances on statements, shared by the typed /赞同 /反对 /弃权 (handlers/opinions.py) and the
stance cards (handlers/stances.py): one mark per member per statement whichever way it came,
and the cards that show the marks."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.core.context import Ack, Context
from bot.core.text import one_line
from bot.core.views import Deal, StanceButton, StanceView, StatementLine
from storage.consultations import get_consultation
from storage.enums import Stage, StanceValue
from storage.models import Consultation, Opinion
from storage.opinions import KeptOpinion, get_opinions, record_stance
from storage.sql import flush_behind
from storage.stances import StatementMarks, digests_dealing, next_unmarked, statement_marks

# The first part of the key of one statement's card (`statement:41`, by opinion id) and of
# a /表态 card (`stances:3`, by digest id): it routes a click to handlers/stances.py.
STATEMENT_CARD = "statement"
DIGEST_CARD = "stances"
# Stances are taken while the consultation is in this stage.
SPEAKING = Stage.CONSULT

BUTTONS = tuple(
    StanceButton(value.name.lower(), value.label)
    for value in (StanceValue.AGREE, StanceValue.DISAGREE, StanceValue.PASS)
)
MORE = StanceButton("more", "看看新发言")
FINISHED = "你已对目前所有的意见和建议表态，谢谢！有新发言时点「看看新发言」。"


def stance_of_button(value: str) -> StanceValue | None:
    """The stance a button stands for (`agree` → 赞同), or None."""
    return next((v for v in StanceValue if v.name.lower() == value), None)


def statement_card_key(opinion_id: int) -> str:
    """The key of one statement's card (`statement:41`)."""
    return f"{STATEMENT_CARD}:{opinion_id}"


def digest_card_key(digest_id: int) -> str:
    """The key of a /表态 card (`stances:3`)."""
    return f"{DIGEST_CARD}:{digest_id}"


def keep_mark(ctx: Context, opinion: Opinion, value: StanceValue, *, before: int | None) -> None:
    """Record the sender's mark on `opinion`, replacing `before` (their mark until now);
    acknowledge a first mark quietly (folded with the group's others, or said on the card
    of a click) and refresh the cards that show the statement's marks."""
    assert opinion.id is not None
    assert ctx.message is not None
    record_stance(
        ctx.session,
        opinion_id=opinion.id,
        member_id=ctx.member_id,
        value=value,
        cast_at=ctx.message.timestamp,
    )
    if before is None:
        # A click is answered on the clicker's own card, where a platform may not even have
        # told the bot their name.
        who = "你" if ctx.message.interactive else ctx.member_name
        ctx.ack(
            Ack(
                key=f"stance-{value.name.lower()}",
                one=f"已记录{who}对 #{opinion.number} 的{value.label}",
                unit=f"次{value.label}",
                ref=opinion.number,
            )
        )
    refresh_cards(ctx, opinion)


def refresh_cards(ctx: Context, opinion: Opinion) -> None:
    """Ask for a refresh of the cards showing the statement's marks: its own card, and the
    /表态 cards listing it (the outbox sends each at most once a second, however many
    marks came)."""
    assert opinion.id is not None
    if statement_cards_shown(ctx):
        ctx.update_card(statement_card_key(opinion.id))
    digests = digests_dealing(
        ctx.session, consultation_id=opinion.consultation_id, opinion_id=opinion.id
    )
    for digest_id in digests:
        ctx.update_card(digest_card_key(digest_id))


def statement_cards_shown(ctx: Context) -> bool:
    """Whether /意见 and /建议 are answered with a card of stance buttons in this group."""
    settings = ctx.settings
    return settings.stances.statement_cards and settings.platforms.shows_stance_cards(
        ctx.group.platform
    )


def post_statement_card(
    ctx: Context, *, consultation_id: int, kept: KeptOpinion, text: Callable[[int], str]
) -> None:
    """Answer a statement just kept with its card of stance buttons (`text(number)` where
    cards are not shown). The card is keyed by the opinion's id, so the opinions kept so far
    in the transaction are written now rather than with the rest of the batch."""
    flush_behind(ctx.session)
    number = kept.number
    opinion = get_opinions(ctx.session, consultation_id=consultation_id, numbers=[number])[number]
    assert opinion.id is not None
    ctx.post_card(text(number), card=statement_card_key(opinion.id))


def statement_line(statement: StatementMarks) -> StatementLine:
    """A statement as its line on a card."""
    kind = statement.kind.label
    return StatementLine(
        number=statement.number,
        ref=f"#{statement.number}",
        text=statement.text,
        author=statement.author,
        kind=kind,
        marks=f"赞同 {statement.agree} · 反对 {statement.disagree} · 弃权 {statement.passed}",
        line=f"#{statement.number} {statement.author}（{kind}）：{one_line(statement.text, 60)}",
    )


def closed_status(consultation: Consultation) -> str:
    """Why a stance card takes no more clicks, or empty while it does."""
    if consultation.closed_at is not None:
        return "表态已结束（本场协商已结束）"
    if consultation.stage is not SPEAKING:
        return f"表态已结束（协商已进入「{consultation.stage.label}」阶段）"
    return ""


def stance_view(
    session: Session,
    *,
    key: str,
    title: str,
    consultation_id: int,
    opinion_ids: list[int],
    hint: str,
    finished: str,
    more: StanceButton | None,
) -> StanceView:
    """A stance card listing these statements (the live ones, in this order); the first
    is the one its buttons mark for a member who has not clicked yet."""
    found = statement_marks(session, opinion_ids=opinion_ids)
    lines = tuple(
        statement_line(found[opinion_id])
        for opinion_id in opinion_ids
        if opinion_id in found and not found[opinion_id].retracted
    )
    status = closed_status(get_consultation(session, consultation_id=consultation_id))
    return StanceView(
        key=key,
        title=title,
        lead=lines[0] if lines else None,
        statements=lines,
        buttons=BUTTONS,
        hint="" if status else hint,
        closed=bool(status),
        status=status,
        closed_label="表态已结束",
        finished=finished,
        more=more,
    )


def deal_next(ctx: Context, *, consultation_id: int, first: list[int]) -> Deal:
    """The statement the card deals the sender next: the first of `first` they have not
    marked (and may mark), else the consultation's fewest-marked such statement."""
    opinion_id = next_unmarked(
        ctx.session, consultation_id=consultation_id, member_id=ctx.member_id, first=first
    )
    if opinion_id is None:
        return Deal(statement=None, stance="")
    found = statement_marks(ctx.session, opinion_ids=[opinion_id])
    return Deal(statement=statement_line(found[opinion_id]), stance="")

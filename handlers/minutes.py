"""/纪要: the secretary asks for the minutes; they are built off the message path."""

from __future__ import annotations

from bot.core.args import NoArgs
from bot.core.context import NO_CONSULTATION, Context
from bot.core.errors import UserError
from bot.core.router import Router
from storage.consultations import last_closed_consultation
from storage.enums import Role, Stage, labels
from storage.minutes import request_minutes

router = Router("minutes")

AFTER_CONSULT_OPENS = [Stage.CONSULT, Stage.REFER, Stage.REPLY, Stage.EVALUATE]


@router.command(
    "纪要",
    "minutes",
    usage="/纪要",
    summary="生成会议纪要（每次保存为新版本）",
    roles=[Role.SECRETARY],
    # Also once the consultation has closed: the final minutes are written after it, of the
    # one that closed last, until another opens.
    stages=None,
    listed_in=AFTER_CONSULT_OPENS,
)
async def ask_for_minutes(ctx: Context, args: NoArgs) -> None:
    """Queue the minutes for the background worker: summarizing (and asking a model) may take
    seconds, which must not hold the transaction the group's messages share."""
    consultation = ctx.consultation
    if consultation is None:
        consultation = last_closed_consultation(ctx.session, group_id=ctx.group_id)
        if consultation is None:
            raise UserError(NO_CONSULTATION)
    elif consultation.stage not in AFTER_CONSULT_OPENS:
        raise UserError(
            f"/纪要 在{labels(AFTER_CONSULT_OPENS, quote=True)}阶段可用，"
            f"当前是「{consultation.stage.label}」阶段。"
        )
    assert consultation.id is not None
    route = ctx.message.route if ctx.message is not None else None
    queued = request_minutes(
        ctx.session,
        consultation_id=consultation.id,
        platform=ctx.group.platform,
        conversation_id=ctx.group.conversation_id,
        member_id=ctx.member_id,
        reply=route.to_json() if route is not None else {},
        now=ctx.now,
    )
    if queued is None:
        raise UserError("纪要正在生成，稍候会发到群里。")
    done = "" if consultation.closed_at is None else f"已结束的协商「{consultation.topic}」的"
    ctx.reply(f"正在生成{done}纪要…完成后发到群里。")

"""/纪要: the secretary asks for the minutes; they are built off the message path."""

from __future__ import annotations

from bot.core.args import NoArgs
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.router import Router
from storage.enums import Role, Stage
from storage.minutes import request_minutes

router = Router("minutes")

AFTER_CONSULT_OPENS = [Stage.CONSULT, Stage.REFER, Stage.REPLY, Stage.EVALUATE]


@router.command(
    "纪要",
    "minutes",
    usage="/纪要",
    summary="生成会议纪要（每次保存为新版本）",
    roles=[Role.SECRETARY],
    stages=AFTER_CONSULT_OPENS,
)
async def ask_for_minutes(ctx: Context, args: NoArgs) -> None:
    """Queue the minutes for the background worker: summarizing (and asking a model) may take
    seconds, which must not hold the transaction the group's messages share."""
    consultation = ctx.require_consultation()
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
    ctx.reply("正在生成纪要…完成后发到群里。")

"""/帮助: what the sender may do here and now."""

from __future__ import annotations

from bot.args import OptionalText
from bot.context import Context
from bot.router import Command, Router
from bot.text import fold
from storage.enums import ALL_STAGES, labels

router = Router("help")


@router.command("帮助", "help", "?", usage="/帮助 [命令]", summary="查看可用的命令")
async def show_help(ctx: Context, args: OptionalText) -> None:
    """List the commands the sender may use in the current stage, or explain one command."""
    if args.text:
        ctx.reply(_explain(ctx, args.text))
        return
    consultation = ctx.consultation
    if consultation is None:
        lines = ["本群当前没有进行中的协商。"]
    else:
        topic = f"「{consultation.topic}」" if consultation.topic else "（议题待定）"
        lines = [f"当前协商：{topic}，{consultation.stage.label}阶段。"]
    lines.append(f"你的身份：{labels(ctx.roles)}。你现在可以：")
    for command in ctx.commands.commands:
        if _usable_now(ctx, command):
            lines.append(f"{command.usage}　{command.summary}")
    lines.append("发送 /帮助 <命令> 查看某个命令的说明。")
    ctx.reply("\n".join(lines), mention=False)


def _usable_now(ctx: Context, command: Command) -> bool:
    if not command.allowed_for(ctx.roles):
        return False
    if command.stages is None:
        return True
    consultation = ctx.consultation
    return consultation is not None and consultation.stage in command.stages


def _explain(ctx: Context, name: str) -> str:
    wanted = fold(name.lstrip("/／").strip())
    for command in ctx.commands.commands:
        spellings = {fold(command.name), *(fold(alias) for alias in command.aliases)}
        if wanted in spellings:
            lines = [f"{command.usage}　{command.summary}"]
            if command.roles is not None:
                lines.append(f"限{labels(command.roles)}使用。")
            if command.stages is not None and command.stages != ALL_STAGES:
                lines.append(f"在{labels(command.stages, quote=True)}阶段可用。")
            return "\n".join(lines)
    return f"没有叫「{name}」的命令。发送 /帮助 查看全部命令。"

"""/帮助: what the sender may do here and now."""

from __future__ import annotations

from bot.core.args import OptionalText
from bot.core.context import CommandInfo, Context
from bot.core.router import Router
from bot.core.text import fold
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
    lines.append("发送 /帮助 <命令> 查看某个命令的说明。@协商助手 时，命令前的 / 可以不写。")
    ctx.reply("\n".join(lines), mention=False)


def _usable_now(ctx: Context, command: CommandInfo) -> bool:
    if not command.allowed_for(ctx.roles):
        return False
    if command.stages is None:
        return True
    consultation = ctx.consultation
    return consultation is not None and consultation.stage in command.stages


def _explain(ctx: Context, name: str) -> str:
    """One command (and the sub-commands under it), or a group of commands such as /协商."""
    wanted = fold(name.lstrip("/／")).split()
    exact = None
    under: list[CommandInfo] = []
    for command in ctx.commands.commands:
        spellings = [fold(spelling).split() for spelling in (command.name, *command.aliases)]
        # `/帮助 协商状态` means /协商 状态: members type Chinese without spaces.
        if "".join(wanted) in ("".join(words) for words in spellings):
            exact = command
        elif any(words[: len(wanted)] == wanted for words in spellings):
            under.append(command)
    if exact is not None:
        lines = [f"{exact.usage}　{exact.summary}"]
        if exact.roles is not None:
            lines.append(f"限{labels(exact.roles)}使用。")
        if exact.stages is not None and exact.stages != ALL_STAGES:
            lines.append(f"在{labels(exact.stages, quote=True)}阶段可用。")
        if exact.aliases:
            lines.append("也可写作：" + "、".join(f"/{alias}" for alias in exact.aliases))
        if under:
            lines.append("相关命令：")
            lines += [_brief(command) for command in under]
        return "\n".join(lines)
    if under:
        family = " ".join(under[0].name.split()[: len(wanted)])
        lines = [f"/{family} 的命令：", *(_brief(command) for command in under)]
        lines.append("发送 /帮助 <命令> 查看某个命令的说明。")
        return "\n".join(lines)
    return f"没有叫「{name}」的命令。发送 /帮助 查看全部命令。"


def _brief(command: CommandInfo) -> str:
    who = f"（限{labels(command.roles)}）" if command.roles is not None else ""
    return f"{command.usage}　{command.summary}{who}"

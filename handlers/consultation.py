"""/协商: open a consultation, see where it stands, close it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from bot.args import NoArgs
from bot.context import Context
from bot.errors import UsageError, UserError
from bot.router import Router
from bot.text import format_time, one_line
from handlers.polls import close_and_announce
from storage.consultations import close_consultation, consultation_counts, open_consultation
from storage.enums import ALL_STAGES, Role, Stage
from storage.groups import member_names
from storage.polls import open_polls

router = Router("consultation")

TOPIC_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Topic:
    """The topic of a new consultation."""

    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """A topic of 1 to 200 characters."""
        text = " ".join(raw.split())
        if not text:
            raise UsageError("请写出协商主题。")
        if len(text) > TOPIC_LIMIT:
            raise UsageError(f"主题最多 {TOPIC_LIMIT} 字。")
        return cls(text)


@router.command(
    "协商 开始",
    "consult start",
    usage="/协商 开始 <主题>",
    summary="开启一场协商",
    roles=[Role.MODERATOR],
)
async def start_consultation(ctx: Context, args: Topic) -> None:
    """Open a consultation on a topic; it starts in 开展协商 so members can speak at once."""
    current = ctx.consultation
    if current is not None:
        raise UserError(
            f"本群已有进行中的协商「{current.topic}」（{current.stage.label}阶段），"
            "请先发送 /协商 结束。"
        )
    open_consultation(
        ctx.session,
        group_id=ctx.group_id,
        member_id=ctx.member_id,
        topic=args.text,
        stage=Stage.CONSULT,
        now=ctx.now,
    )
    ctx.forget_consultation()
    ctx.post(
        f"协商开始：「{args.text}」\n"
        f"主持人：{ctx.member_name}\n"
        "发送 /意见 <内容> 发表意见，/建议 <内容> 提出建议，/附议 #编号 支持他人的意见。"
        "发送 /帮助 查看全部命令。"
    )


@router.command("协商 状态", "consult status", usage="/协商 状态", summary="查看协商进展")
async def show_status(ctx: Context, args: NoArgs) -> None:
    """Say what the consultation is about, its stage, and what it has gathered."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    counts = consultation_counts(ctx.session, consultation_id=consultation.id)
    opener = member_names(ctx.session, member_ids={consultation.opened_by})
    zone = ctx.settings.zone
    lines = [
        f"协商「{consultation.topic}」",
        f"阶段：{consultation.stage.label}（第 {consultation.stage.rank + 1}/7 步）",
        f"开始：{format_time(consultation.opened_at, zone)}，"
        f"主持人 {opener.get(consultation.opened_by, '')}",
        f"意见 {counts.opinions} 条，建议 {counts.suggestions} 条，"
        f"{counts.participants} 位委员发言；投票 {counts.polls} 次",
    ]
    for poll in open_polls(ctx.session, consultation_id=consultation.id):
        due = f"，{format_time(poll.deadline, zone)} 截止" if poll.deadline else ""
        lines.append(f"进行中的投票 #{poll.number}：{one_line(poll.question)}{due}")
    ctx.reply("\n".join(lines), mention=False)


@router.command(
    "协商 结束",
    "consult end",
    usage="/协商 结束",
    summary="结束本场协商（同时结束进行中的投票）",
    roles=[Role.MODERATOR],
    stages=ALL_STAGES,
)
async def end_consultation(ctx: Context, args: NoArgs) -> None:
    """Close the consultation and its open polls, posting their results."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    for poll in open_polls(ctx.session, consultation_id=consultation.id):
        close_and_announce(ctx, poll, closed_by=ctx.member_id)
    counts = consultation_counts(ctx.session, consultation_id=consultation.id)
    close_consultation(ctx.session, consultation=consultation, member_id=ctx.member_id, now=ctx.now)
    ctx.forget_consultation()
    ctx.post(
        f"协商「{consultation.topic}」结束。共收到意见 {counts.opinions} 条、"
        f"建议 {counts.suggestions} 条，{counts.participants} 位委员发言。感谢各位委员！"
    )

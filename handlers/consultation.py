"""/协商: open a consultation, see where it stands, close it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from bot.core.args import NoArgs
from bot.core.context import CommandInfo, Context
from bot.core.errors import UsageError, UserError
from bot.core.router import Router
from bot.core.text import fold, format_refs, format_time, one_line
from handlers.shared.followup import describe_plan, rating_lines, referral_state
from handlers.shared.polls import close_and_announce
from storage.consultations import (
    change_stage,
    close_consultation,
    consultation_counts,
    open_consultation,
)
from storage.enums import ALL_STAGES, Role, Stage, labels
from storage.groups import member_names
from storage.models import Consultation
from storage.plans import get_plan, list_research_notes
from storage.polls import open_polls
from storage.referrals import list_referrals, standing_reply
from storage.topics import list_proposals

router = Router("consultation")

TOPIC_LIMIT = 200
# Roles that have commands of their own (everyone is a member: those are "所有人").
ROLES_WITH_COMMANDS = frozenset(role for role in Role if role is not Role.MEMBER)


@dataclass(frozen=True, slots=True)
class OptionalTopic:
    """The topic of a new consultation, or nothing to choose it in 选题定题."""

    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """A topic of up to 200 characters, or empty."""
        text = " ".join(raw.split())
        if len(text) > TOPIC_LIMIT:
            raise UsageError(f"主题最多 {TOPIC_LIMIT} 字。")
        return cls(text)


NEXT_STAGE = frozenset({"下一步", "下一阶段", "next"})


@dataclass(frozen=True, slots=True)
class StageTarget:
    """`下一步`, a stage's name (`报送意见`), or its step number (`5`)."""

    stage: Stage | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """None stands for the next stage."""
        text = fold("".join(raw.split()))
        if not text:
            raise UsageError("请写出阶段名称或“下一步”。")
        if text in NEXT_STAGE:
            return cls(None)
        step = re.fullmatch(r"第?([1-7一二三四五六七])步?", text)
        if step:
            return cls(list(Stage)[_STEP_NUMBERS.index(step.group(1)) % 7])
        stage = Stage.from_label(text)
        if stage is None:
            raise UsageError(
                f"没有「{one_line(raw, 12)}」这个阶段。七个阶段：{labels(ALL_STAGES)}。"
            )
        return cls(stage)


_STEP_NUMBERS = "1234567一二三四五六七"


def topic_text(consultation: Consultation) -> str:
    """`「夜市延长营业时间」`, or a note that the topic is still to be chosen."""
    return f"「{consultation.topic}」" if consultation.topic else "（议题待定）"


def commands_now(ctx: Context, consultation: Consultation) -> list[CommandInfo]:
    """What the sender's roles let them do in the consultation's stage: the commands this
    stage enables, then their role's commands that work in any stage (but opening another
    consultation while this one is open); those open to everyone everywhere are left to
    /帮助."""
    enabled = ctx.commands.enabled_in(consultation.stage)
    anytime = [
        command
        for command in ctx.commands.commands
        if command.roles is not None
        and command.stages in (None, ALL_STAGES)
        and command.handler is not start_consultation
    ]
    return [command for command in [*enabled, *anytime] if command.allowed_for(ctx.roles)]


def _usable_line(command: CommandInfo, consultation: Consultation) -> str:
    """`usage　summary`; moving on is shown as what it does next, when it can be done."""
    stage = consultation.stage
    if command.handler is move_to_stage and consultation.topic and stage is not Stage.EVALUATE:
        following = list(Stage)[stage.rank + 1]
        return f"/协商 阶段 下一步　进入第 {following.rank + 1} 步「{following.label}」"
    return f"{command.usage}　{command.summary}"


@router.command(
    "协商 开始",
    "consult start",
    usage="/协商 开始 [主题]",
    summary="开启一场协商（不写主题则从选题定题开始）",
    roles=[Role.MODERATOR],
)
async def start_consultation(ctx: Context, args: OptionalTopic) -> None:
    """Open a consultation: with a topic in 开展协商 so members speak at once, without one
    in 选题定题 so members propose topics first."""
    current = ctx.consultation
    if current is not None:
        raise UserError(
            f"本群已有进行中的协商{topic_text(current)}（{current.stage.label}阶段），"
            "请先发送 /协商 结束。"
        )
    stage = Stage.CONSULT if args.text else Stage.TOPIC
    open_consultation(
        ctx.session,
        group_id=ctx.group_id,
        member_id=ctx.member_id,
        topic=args.text,
        stage=stage,
        now=ctx.now,
    )
    ctx.forget_consultation()
    if args.text:
        ctx.post(
            f"协商开始：「{args.text}」\n"
            f"主持人：{ctx.member_name}\n"
            "发送 /意见 <内容> 发表意见，/建议 <内容> 提出建议，/附议 #编号 支持他人的意见。"
            "发送 /帮助 查看全部命令。"
        )
        return
    ctx.post(
        "协商开始，第 1 步「选题定题」。\n"
        f"主持人：{ctx.member_name}\n"
        "发送 /选题 <议题> 提出议题；主持人可发送 /选题 投票 让大家投票选定，"
        "或 /定题 <议题> 直接确定。发送 /帮助 查看全部命令。"
    )


@router.command(
    "协商 阶段",
    "consult stage",
    usage="/协商 阶段 <阶段名称|下一步>",
    summary="进入七步中的另一阶段",
    roles=[Role.MODERATOR],
    stages=ALL_STAGES,
)
async def move_to_stage(ctx: Context, args: StageTarget) -> None:
    """Move the consultation to another of the seven steps and say what it enables."""
    consultation = ctx.require_consultation()
    current = consultation.stage
    if args.stage is None:
        if current is Stage.EVALUATE:
            raise UserError("已是最后一步「结果评价」。评价结束后可发送 /协商 结束。")
        target = list(Stage)[current.rank + 1]
    else:
        target = args.stage
    if target is current:
        raise UserError(f"当前已是「{current.label}」阶段。")
    if not consultation.topic and target is not Stage.TOPIC:
        raise UserError(
            "议题还没有确定，不能离开「选题定题」：请先发送 /选题 投票 让委员选定，"
            "或 /定题 <议题> 直接确定。"
        )
    change_stage(
        ctx.session,
        consultation=consultation,
        to_stage=target,
        member_id=ctx.member_id,
        now=ctx.now,
    )
    lines = [
        f"协商{topic_text(consultation)}进入第 {target.rank + 1} 步「{target.label}」"
        f"（{ctx.member_name}，{format_time(ctx.now, ctx.settings.zone)}）。"
    ]
    lines += stage_commands(ctx.commands.enabled_in(target))
    ctx.post("\n".join(lines))


def stage_commands(enabled: Sequence[CommandInfo]) -> list[str]:
    """The commands a stage enables, a line for everyone and one for each role: what each
    person in the group may now do, short enough for a phone."""
    if not enabled:
        return []
    lines = ["本阶段可用："]
    everyone = [command for command in enabled if command.roles is None]
    if everyone:
        lines.append("所有人：" + " ".join(_short(command) for command in everyone))
    for role in sorted(ROLES_WITH_COMMANDS, key=lambda role: role.rank):
        own = [c for c in enabled if c.roles is not None and role in c.roles]
        if own:
            lines.append(f"{role.label}：" + " ".join(_short(command) for command in own))
    lines.append("发送 /帮助 <命令> 查看用法。")
    return lines


def _short(command: CommandInfo) -> str:
    return "/" + command.name


@router.command("协商 状态", "consult status", usage="/协商 状态", summary="查看协商进展")
async def show_status(ctx: Context, args: NoArgs) -> None:
    """Say what the consultation is about, its stage, what it has gathered, and what the
    sender can do now; with none open, how one is opened."""
    consultation = ctx.consultation
    if consultation is None:
        how = "发送" if Role.MODERATOR in ctx.roles else "主持人可发送"
        ctx.reply(f"本群当前没有进行中的协商。{how} /协商 开始 [主题] 开启（不写主题则先选题）。")
        return
    assert consultation.id is not None
    counts = consultation_counts(ctx.session, consultation_id=consultation.id)
    opener = member_names(ctx.session, member_ids={consultation.opened_by})
    zone = ctx.settings.zone
    stage = consultation.stage
    lines = [
        f"协商{topic_text(consultation)}",
        f"阶段：{stage.label}（第 {stage.rank + 1}/7 步）",
        f"开始：{format_time(consultation.opened_at, zone)}，"
        f"主持人 {opener.get(consultation.opened_by, '')}",
    ]
    if stage is Stage.TOPIC:
        proposals = list_proposals(ctx.session, consultation_id=consultation.id)
        lines.append(f"选题 {len(proposals)} 个" + ("：" if proposals else ""))
        lines += [f"#{p.number} {one_line(p.text)}" for p in proposals]
    plan = get_plan(ctx.session, consultation_id=consultation.id)
    if plan is not None:
        lines.append("方案：" + "；".join(describe_plan(plan)))
    notes = list_research_notes(ctx.session, consultation_id=consultation.id)
    if notes:
        lines.append(f"调研材料 {len(notes)} 份")
    remarks = f"发言 {counts.remarks} 条，" if counts.remarks else ""
    lines.append(
        f"意见 {counts.opinions} 条，建议 {counts.suggestions} 条，{remarks}"
        f"{counts.participants} 位委员发言；投票 {counts.polls} 次"
    )
    lines += [
        referral_state(ctx, referral)
        for referral in list_referrals(ctx.session, consultation_id=consultation.id)
    ]
    for poll in open_polls(ctx.session, consultation_id=consultation.id):
        due = f"，{format_time(poll.deadline, zone)} 截止" if poll.deadline else ""
        lines.append(f"进行中的投票 #{poll.number}：{one_line(poll.question)}{due}")
    usable = commands_now(ctx, consultation)
    if usable:
        lines.append("你现在可以：")
        lines += [_usable_line(command, consultation) for command in usable]
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
    """Close the consultation and its open polls, posting their results and the ratings."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    for poll in open_polls(ctx.session, consultation_id=consultation.id):
        close_and_announce(ctx, poll, closed_by=ctx.member_id)
    counts = consultation_counts(ctx.session, consultation_id=consultation.id)
    ratings = rating_lines(ctx, consultation.id)
    waiting = [
        r
        for r in list_referrals(ctx.session, consultation_id=consultation.id)
        if r.id is not None and standing_reply(ctx.session, referral_id=r.id) is None
    ]
    close_consultation(ctx.session, consultation=consultation, member_id=ctx.member_id, now=ctx.now)
    ctx.forget_consultation()
    remarks = f"、发言 {counts.remarks} 条" if counts.remarks else ""
    lines = [
        f"协商{topic_text(consultation)}结束。共收到意见 {counts.opinions} 条、"
        f"建议 {counts.suggestions} 条{remarks}，{counts.participants} 位委员发言。感谢各位委员！"
    ]
    if ratings:
        lines += ["评价结果：", *ratings]
    if waiting:
        lines.append(
            f"尚有 {len(waiting)} 件报送未答复（{format_refs(r.number for r in waiting)}），"
            "答复前仍按期提醒；答复后委员仍可发送 /评价 打分。发送 /督办 查看逾期报送。"
        )
    lines.append("秘书可发送 /纪要 生成本场协商的最终纪要。")
    ctx.post("\n".join(lines))

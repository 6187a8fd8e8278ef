"""/方案 /调研: the moderator records the plan, members attach research notes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.args import Text
from bot.context import Ack, Context
from bot.errors import UsageError
from bot.router import Router
from storage.enums import Role, Stage
from storage.plans import add_research_note, save_plan
from storage.step_tables import ConsultationPlan

router = Router("plan")

# Field names members write, and the field each fills.
_FIELDS = {
    "时间": "schedule",
    "地点": "place",
    "形式": "place",
    "邀请部门": "departments",
    "部门": "departments",
    "邀请领导": "leaders",
    "领导": "leaders",
    "说明": "notes",
    "内容": "notes",
}
_FIELD = re.compile(
    r"(?:^|\s)(" + "|".join(sorted(_FIELDS, key=len, reverse=True)) + r")\s*[:：]?\s*"
)
_LIST_SEPARATORS = re.compile(r"[、，,;；\s]+")
_LIMITS = {"schedule": 100, "place": 200, "notes": 1000}
NAME_LIMIT = 64
LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """`时间 … 地点 … 部门 甲、乙 领导 丙 说明 …`; words before any field are the notes."""

    schedule: str
    place: str
    departments: tuple[str, ...]
    leaders: tuple[str, ...]
    notes: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """At least one field filled; lists split on 、 and commas."""
        text = raw.strip()
        values: dict[str, list[str]] = {}
        matches = list(_FIELD.finditer(text))
        lead = text[: matches[0].start()] if matches else text
        if lead.strip():
            values.setdefault("notes", []).append(lead.strip())
        ends = [m.start() for m in matches[1:]] + [len(text)] * bool(matches)
        for match, end in zip(matches, ends, strict=True):
            value = text[match.end() : end].strip()
            if value:
                values.setdefault(_FIELDS[match.group(1)], []).append(value)
        if not values:
            raise UsageError("请写出方案内容，如 时间 11月28日下午 地点 区政协三楼 部门 市民政局。")
        single = {name: " ".join(values.get(name, [])) for name in ("schedule", "place", "notes")}
        for name, limit in _LIMITS.items():
            if len(single[name]) > limit:
                raise UsageError(f"方案的「{_label(name)}」最多 {limit} 字。")
        return cls(
            schedule=single["schedule"],
            place=single["place"],
            departments=_names(values.get("departments", []), "邀请部门"),
            leaders=_names(values.get("leaders", []), "邀请领导"),
            notes=single["notes"],
        )


def _label(field: str) -> str:
    return next(label for label, name in _FIELDS.items() if name == field)


def _names(pieces: list[str], label: str) -> tuple[str, ...]:
    names = [n for piece in pieces for n in _LIST_SEPARATORS.split(piece) if n]
    if len(names) > LIST_LIMIT:
        raise UsageError(f"{label}最多 {LIST_LIMIT} 个。")
    if any(len(name) > NAME_LIMIT for name in names):
        raise UsageError(f"{label}的每个名称最多 {NAME_LIMIT} 字。")
    return tuple(dict.fromkeys(names))


def describe_plan(plan: ConsultationPlan) -> list[str]:
    """The plan as lines for the group (fields left empty are left out)."""
    lines = []
    if plan.schedule:
        lines.append(f"时间：{plan.schedule}")
    if plan.place:
        lines.append(f"地点/形式：{plan.place}")
    if plan.departments:
        lines.append(f"邀请部门：{'、'.join(plan.departments)}")
    if plan.leaders:
        lines.append(f"邀请领导：{'、'.join(plan.leaders)}")
    if plan.notes:
        lines.append(f"说明：{plan.notes}")
    return lines


@router.command(
    "方案",
    "plan",
    usage="/方案 时间 <…> 地点 <…> 部门 <甲、乙> 领导 <…> 说明 <…>",
    summary="记录协商方案（再次发送则替换）",
    roles=[Role.MODERATOR],
    stages=[Stage.PLAN, Stage.RESEARCH],
)
async def record_plan(ctx: Context, args: PlanSpec) -> None:
    """Record the consultation's plan and show it to the group."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    plan = save_plan(
        ctx.session,
        consultation_id=consultation.id,
        schedule=args.schedule,
        place=args.place,
        departments=list(args.departments),
        leaders=list(args.leaders),
        notes=args.notes,
        member_id=ctx.member_id,
        now=ctx.now,
    )
    ctx.post("\n".join([f"协商方案（{ctx.member_name}记录）：", *describe_plan(plan)]))


@router.command(
    "调研",
    "research",
    usage="/调研 <调研情况或材料>",
    summary="提交调研材料",
    stages=[Stage.RESEARCH],
)
async def attach_research(ctx: Context, args: Text) -> None:
    """Keep a research note for the minutes and acknowledge it with its number."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    assert ctx.message is not None
    note = add_research_note(
        ctx.session,
        consultation_id=consultation.id,
        member_id=ctx.member_id,
        text=args.text,
        message_id=ctx.message.message_id,
        now=ctx.message.timestamp,
    )
    ctx.ack(
        Ack(
            key="research",
            one=f"已记录{ctx.member_name}的调研材料 #{note.number}",
            unit="份调研材料",
            ref=note.number,
        )
    )

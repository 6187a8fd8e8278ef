"""/方案 /调研: the moderator records the plan, members attach research notes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.core.args import Text
from bot.core.context import Ack, Context
from bot.core.errors import UsageError
from bot.core.router import Router
from handlers.shared.followup import PLAN_FIELDS, describe_plan
from storage.enums import Role, Stage
from storage.plans import add_research_note, get_plan, save_plan

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


# Written as a field's value, empties that field.
CLEAR = "无"


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """`时间 … 地点 … 部门 甲、乙 领导 丙 说明 …`; words before any field are the notes.

    A field left out is None (it keeps what was recorded); a field written as `无` is empty
    (it clears what was recorded)."""

    schedule: str | None
    place: str | None
    departments: tuple[str, ...] | None
    leaders: tuple[str, ...] | None
    notes: str | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """At least one field given; lists split on 、 and commas."""
        text = raw.strip()
        values: dict[str, list[str]] = {}
        matches = list(_FIELD.finditer(text))
        lead = text[: matches[0].start()] if matches else text
        if lead.strip():
            values.setdefault("notes", []).append(lead.strip())
        ends = [m.start() for m in matches[1:]] + [len(text)] * bool(matches)
        for match, end in zip(matches, ends, strict=True):
            value = text[match.end() : end].strip()
            if not value:
                # Taking it for "clear" would wipe a field on a slip of the thumb.
                name = match.group(1)
                raise UsageError(f"「{name}」后面没有内容；要清空这一项，请写 {name} {CLEAR}。")
            values.setdefault(_FIELDS[match.group(1)], []).append(value)
        if not values:
            raise UsageError("请写出方案内容，如 时间 11月28日下午 地点 区政协三楼 部门 市民政局。")
        given = {name: [] if pieces == [CLEAR] else pieces for name, pieces in values.items()}
        single = {
            name: " ".join(given[name]) if name in given else None
            for name in ("schedule", "place", "notes")
        }
        for name, limit in _LIMITS.items():
            if len(single[name] or "") > limit:
                raise UsageError(f"方案的「{_label(name)}」最多 {limit} 字。")
        return cls(
            schedule=single["schedule"],
            place=single["place"],
            departments=_names(given["departments"], "邀请部门")
            if "departments" in given
            else None,
            leaders=_names(given["leaders"], "邀请领导") if "leaders" in given else None,
            notes=single["notes"],
        )

    def given(self) -> list[str]:
        """The fields written, in the order they are shown."""
        return [name for name in PLAN_FIELDS if getattr(self, name) is not None]


def _label(field: str) -> str:
    return next(label for label, name in _FIELDS.items() if name == field)


def _names(pieces: list[str], label: str) -> tuple[str, ...]:
    names = [n for piece in pieces for n in _LIST_SEPARATORS.split(piece) if n]
    if len(names) > LIST_LIMIT:
        raise UsageError(f"{label}最多 {LIST_LIMIT} 个。")
    if any(len(name) > NAME_LIMIT for name in names):
        raise UsageError(f"{label}的每个名称最多 {NAME_LIMIT} 字。")
    return tuple(dict.fromkeys(names))


@router.command(
    "方案",
    "plan",
    usage="/方案 [时间 <…>] [地点 <…>] [部门 <甲、乙>] [领导 <…>] [说明 <…>]",
    summary="记录协商方案（再次发送只改写出的项，写「无」清空该项）",
    roles=[Role.MODERATOR],
    stages=[Stage.PLAN, Stage.RESEARCH],
)
async def record_plan(ctx: Context, args: PlanSpec) -> None:
    """Record the fields of the consultation's plan that were written, keep the others,
    and show the whole plan to the group."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    before = get_plan(ctx.session, consultation_id=consultation.id)
    plan = save_plan(
        ctx.session,
        consultation_id=consultation.id,
        schedule=args.schedule,
        place=args.place,
        departments=None if args.departments is None else list(args.departments),
        leaders=None if args.leaders is None else list(args.leaders),
        notes=args.notes,
        member_id=ctx.member_id,
        now=ctx.now,
    )
    shown = describe_plan(plan) or ["（方案各项均为空）"]
    if before is None:
        ctx.post("\n".join([f"协商方案（{ctx.member_name}记录）：", *shown]))
        return
    changed = [name for name in args.given() if getattr(args, name)]
    cleared = [name for name in args.given() if not getattr(args, name)]
    what = "，".join(
        part
        for part in (
            "、".join(PLAN_FIELDS[name] for name in changed),
            "清空" + "、".join(PLAN_FIELDS[name] for name in cleared) if cleared else "",
        )
        if part
    )
    ctx.post("\n".join([f"已更新方案：{what}（{ctx.member_name}），其余各项不变：", *shown]))


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

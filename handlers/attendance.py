"""/出席: who took part, and which leaders and department representatives attended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.router import Router
from bot.core.settings import Settings
from storage.attendance import (
    ProfileSpec,
    consultation_attendance,
    record_guest,
    sync_member_profiles,
)
from storage.enums import ALL_STAGES, Role

router = Router("attendance")

NAME_LIMIT = 64


@dataclass(frozen=True, slots=True)
class GuestSpec:
    """`[@]姓名 部门 [职务]`, or nothing to see the attendance."""

    name: str
    department: str
    title: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Name and department are needed; the title may be left out."""
        words = raw.split()
        if not words:
            return cls("", "", "")
        if len(words) < 2:
            raise UsageError("请写出姓名和部门，如 /出席 @王明 市民政局 副局长。")
        name = words[0].lstrip("@＠")
        title = " ".join(words[2:])
        if not name or any(len(part) > NAME_LIMIT for part in (name, words[1], title)):
            raise UsageError(f"姓名、部门、职务各最多 {NAME_LIMIT} 字。")
        return cls(name, words[1], title)


@router.command(
    "出席",
    "attend",
    usage="/出席 [@姓名 部门 职务]",
    summary="记录出席的领导和部门代表；不带内容则查看出席情况",
    roles=[Role.MODERATOR, Role.SECRETARY],
    stages=ALL_STAGES,
)
async def record_attendance(ctx: Context, args: GuestSpec) -> None:
    """Record an attending leader or department representative, or show who took part."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    if not args.name:
        ctx.reply("\n".join(describe_attendance(ctx, consultation.id)), mention=False)
        return
    # `/出席 @王明 …`: the @ names a member the group knows, whose messages are then a
    # guest's; a name typed without an @ (or a member the bot has not met) is kept as text.
    mentioned = next((m for m in ctx.mentioned_members() if m is not None), None)
    person = mentioned if mentioned is not None and mentioned.name == args.name else None
    if person is None and mentioned is not None and args.name in (mentioned.user_id,):
        person = mentioned
    new = record_guest(
        ctx.session,
        consultation_id=consultation.id,
        name=person.name if person is not None else args.name,
        department=args.department,
        title=args.title,
        member_id=ctx.member_id,
        now=ctx.now,
        person_id=person.id if person is not None else None,
    )
    principal = ctx.settings.units.principal_rule().matches(
        name=args.name, department=args.department, title=args.title
    )
    office = " ".join(filter(None, (args.department, args.title)))
    who = f"{args.name}（{office}{'，主要领导' if principal else ''}）"
    ctx.reply(f"{'已记录' if new else '已更新'}出席：{who}")
    if person is not None:
        ctx.post(f"欢迎{person.name}出席本次协商。", mentions=(person.user_id,))


def describe_attendance(ctx: Context, consultation_id: int) -> list[str]:
    """The attendance as lines for the group: members by sector, staff by role."""
    attendance = consultation_attendance(ctx.session, consultation_id=consultation_id)
    members = [_named(person.name, [person.sector]) for person in attendance.participants]
    staff = [
        _named(
            person.name,
            [*(role.label for role in person.roles if role is not Role.MEMBER), person.sector],
        )
        for person in attendance.staff
    ]
    principal = ctx.settings.units.principal_rule()
    guests = [
        _named(
            g.name,
            [
                " ".join(filter(None, (g.department, g.title))),
                "主要领导"
                if principal.matches(name=g.name, department=g.department, title=g.title)
                else "",
            ],
        )
        for g in attendance.guests
    ]
    return [
        f"参与委员 {len(members)} 人：{'、'.join(members) or '暂无'}",
        f"主持和工作人员 {len(staff)} 人：{'、'.join(staff) or '暂无'}",
        f"出席的领导和部门代表 {len(guests)} 人：{'、'.join(guests) or '暂无'}",
    ]


def _named(name: str, notes: list[str]) -> str:
    """`王明（区财政局 局长）`, or the bare name when there is nothing to add."""
    shown = [note for note in notes if note]
    return name + (f"（{'，'.join(shown)}）" if shown else "")


def profiles_from_config(settings: Settings) -> list[ProfileSpec]:
    """Everyone config says something about: their roles, sector, or office."""
    roles: dict[str, list[Role]] = {}
    for role, people in (
        (Role.MODERATOR, settings.roles.moderators),
        (Role.SECRETARY, settings.roles.secretaries),
        (Role.LIAISON, settings.roles.liaisons),
    ):
        for person in people:
            roles.setdefault(person, []).append(role)
    sectors = {entry.member: entry.sector for entry in settings.attendance.sectors}
    leaders = {entry.member: entry for entry in settings.attendance.leaders}
    specs = []
    for person in sorted({*roles, *sectors, *leaders}):
        platform, _, user_id = person.partition(":")
        leader = leaders.get(person)
        specs.append(
            ProfileSpec(
                platform=platform,
                user_id=user_id,
                sector=sectors.get(person, ""),
                roles=tuple(roles.get(person, ())),
                department=leader.department if leader else "",
                title=leader.title if leader else "",
            )
        )
    return specs


@router.on_startup
async def load_profiles_from_config(ctx: Context) -> None:
    """Store what config says about people, so attendance (and the minutes) can read it."""
    sync_member_profiles(ctx.session, profiles=profiles_from_config(ctx.settings))

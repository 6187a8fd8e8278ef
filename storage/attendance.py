"""Who took part in a consultation: members with their role and sector (界别), and the
leaders and department representatives who attended."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.enums import Role
from storage.models import ChatGroup, Consultation, InboundEvent, Member, MemberRole
from storage.sql import chunks, insert
from storage.step_tables import GuestAttendance, MemberProfile


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What config says about one person (`platform:user_id`)."""

    platform: str
    user_id: str
    sector: str = ""
    roles: tuple[Role, ...] = ()
    department: str = ""
    title: str = ""


def sync_member_profiles(session: Session, *, profiles: list[ProfileSpec]) -> None:
    """Make the stored profiles what config says now (config is their only source)."""
    session.execute(sa.delete(MemberProfile))
    for spec in profiles:
        session.add(
            MemberProfile(
                platform=spec.platform,
                user_id=spec.user_id,
                sector=spec.sector,
                roles=[role.value for role in spec.roles],
                department=spec.department,
                title=spec.title,
            )
        )
    session.flush()


def record_guest(
    session: Session,
    *,
    consultation_id: int,
    name: str,
    department: str,
    title: str,
    member_id: int,
    now: datetime,
    person_id: int | None = None,
) -> bool:
    """Record an attending leader or department representative (`person_id`: their own
    member record, when known); False when it replaced an earlier record of the same person
    (their department or title corrected)."""
    statement = insert(session, GuestAttendance).values(
        consultation_id=consultation_id,
        name=name,
        department=department,
        title=title,
        person_id=person_id,
        recorded_by=member_id,
        recorded_at=now,
    )
    existed = session.exec(
        select(GuestAttendance.id).where(
            GuestAttendance.consultation_id == consultation_id, GuestAttendance.name == name
        )
    ).first()
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["consultation_id", "name"],
            set_={
                "department": department,
                "title": title,
                "person_id": person_id,
                "recorded_at": now,
            },
        )
    )
    return existed is None


# Commands whose success shows a committee member taking part: what they said, proposed,
# researched, seconded, marked, voted and rated. Named as the handlers name them (the
# event log keeps that name); tests/handlers/test_attendance.py keeps both lists in step.
TAKING_PART = frozenset(
    {"意见", "建议", "发言", "附议", "赞同", "反对", "弃权", "投", "选题", "调研", "评价"}
)
_M, _S, _L = Role.MODERATOR, Role.SECRETARY, Role.LIAISON
# The commands only staff may run, and who may. The event log keeps the command a message
# ran but not the roles its sender had then (a platform's admin flag, the role picked in
# the local chat), so a staff command that succeeded tells who was staff.
STAFF_COMMANDS: dict[str, frozenset[Role]] = {
    "协商 开始": frozenset({_M}),
    "协商 阶段": frozenset({_M}),
    "协商 结束": frozenset({_M}),
    "选题 投票": frozenset({_M}),
    "定题": frozenset({_M}),
    "方案": frozenset({_M}),
    "投票": frozenset({_M}),
    "结束投票": frozenset({_M}),
    "催投": frozenset({_M}),
    "出席": frozenset({_M, _S}),
    "统计": frozenset({_M, _S}),
    "重办": frozenset({_M, _S}),
    "报送": frozenset({_S}),
    "纪要": frozenset({_S}),
    "签批": frozenset({_S}),
    "发文": frozenset({_S}),
    "签批 撤销": frozenset({_S}),
    "发文 撤销": frozenset({_S}),
    "本群 单位": frozenset({_S}),
    "反馈": frozenset({_S, _L}),
}
STAFF_ROLES = frozenset({_M, _S, _L})


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone who did something with the bot during the consultation; `messages` counts
    the messages that did (refused and unanswered ones are left out)."""

    member_id: int
    name: str
    roles: tuple[Role, ...]
    sector: str
    messages: int


@dataclass(frozen=True, slots=True)
class Guest:
    """A leader or department representative present; `recorded` when named with /出席,
    otherwise known from config because they wrote in the group."""

    name: str
    department: str
    title: str
    recorded: bool


@dataclass(frozen=True, slots=True)
class Attendance:
    """Who took part in one consultation: the committee members (参与委员), the staff who
    ran it (主持人, 秘书, 部门联络员), and the leaders present."""

    participants: tuple[Participant, ...]
    guests: tuple[Guest, ...]
    staff: tuple[Participant, ...] = ()


def consultation_attendance(session: Session, *, consultation_id: int) -> Attendance:
    """Who took part while the consultation was open (see `attendances`)."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise LookupError(f"no consultation {consultation_id}")
    return attendances(session, [consultation])[consultation_id]


def attendances(session: Session, consultations: Sequence[Consultation]) -> dict[int, Attendance]:
    """Who took part in each consultation while it was open, by id. Members who spoke,
    proposed, researched, seconded, marked, voted or rated are its participants; whoever
    holds a staff role (from config, granted, opening it, or shown by a staff command that
    succeeded) and did anything is staff instead; asking, and being refused, is not taking
    part. Leaders are those recorded with /出席 and those config names who wrote. A few
    queries for all of them, not a few for each (a year's table asks for thousands)."""
    by_id = {c.id: c for c in consultations if c.id is not None}
    session.flush()  # the events are read on the connection, past the session's autoflush
    done: defaultdict[int, defaultdict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    guest_records: defaultdict[int, list[GuestAttendance]] = defaultdict(list)
    # A chunk holds the consultations of a few groups, so each query reads those groups'
    # events and no others, whatever plan the database picks.
    in_group_order = sorted(by_id, key=lambda cid: (by_id[cid].group_id, cid))
    for chunk in chunks(in_group_order):
        groups = sorted({by_id[cid].group_id for cid in chunk})
        for consultation_id, member_id, command, outcome, count in session.connection().execute(
            _events_in_window(chunk, groups)
        ):
            assert consultation_id is not None
            assert member_id is not None
            commands = done[consultation_id][member_id]  # everyone who wrote
            if outcome == "ok" and command is not None:
                commands[command] = commands.get(command, 0) + int(count)
        for guest in session.exec(
            select(GuestAttendance)
            .where(col(GuestAttendance.consultation_id).in_(chunk))
            .order_by(col(GuestAttendance.id))
        ):
            guest_records[guest.consultation_id].append(guest)
    people: dict[int, tuple[Member, MemberProfile | None]] = {}
    writers = sorted({m for members in done.values() for m in members})
    for chunk in chunks(writers):
        for member, profile in session.exec(
            select(Member, MemberProfile)
            .outerjoin(
                MemberProfile,
                sa.and_(
                    col(MemberProfile.platform) == col(Member.platform),
                    col(MemberProfile.user_id) == col(Member.user_id),
                ),
            )
            .where(col(Member.id).in_(chunk))
        ):
            assert member.id is not None
            people[member.id] = (member, profile)
    granted = _granted_roles(session, group_ids={c.group_id for c in by_id.values()})
    return {
        cid: _attendance(
            consultation,
            done[cid],
            [people[m] for m in sorted(done[cid])],
            granted[consultation.group_id],
            guest_records[cid],
        )
        for cid, consultation in by_id.items()
    }


def _events_in_window(
    consultation_ids: list[int], group_ids: list[int]
) -> sa.Select[int | None, int | None, str | None, str, int]:
    """(consultation, member, command, outcome, count) of the events of each consultation's
    group (one of `group_ids`, theirs) while it was open, the ignored ones left out."""
    return (
        sa.select(
            col(Consultation.id),
            col(Member.id),
            col(InboundEvent.command),
            col(InboundEvent.outcome),
            sa.func.count(col(InboundEvent.id)),
        )
        .join(ChatGroup, col(ChatGroup.id) == col(Consultation.group_id))
        .join(
            InboundEvent,
            sa.and_(
                col(InboundEvent.platform) == col(ChatGroup.platform),
                col(InboundEvent.conversation_id) == col(ChatGroup.conversation_id),
                col(InboundEvent.received_at) >= col(Consultation.opened_at),
                sa.or_(
                    col(Consultation.closed_at).is_(None),
                    col(InboundEvent.received_at) <= col(Consultation.closed_at),
                ),
            ),
        )
        .join(
            Member,
            sa.and_(
                col(Member.platform) == col(InboundEvent.platform),
                col(Member.user_id) == col(InboundEvent.sender_id),
            ),
        )
        .where(
            col(Consultation.id).in_(consultation_ids),
            col(ChatGroup.id).in_(group_ids),
            col(InboundEvent.outcome) != "ignored",
        )
        .group_by(
            col(Consultation.id),
            col(Member.id),
            col(InboundEvent.command),
            col(InboundEvent.outcome),
        )
    )


def _attendance(
    consultation: Consultation,
    done: Mapping[int, dict[str, int]],
    people: Sequence[tuple[Member, MemberProfile | None]],
    granted: Mapping[int, set[Role]],
    guest_records: Sequence[GuestAttendance],
) -> Attendance:
    """One consultation's attendance from what its members did (`done`: member id to the
    commands that succeeded, with how often), who they are, the roles granted in its group
    and the guests recorded."""
    # Members recorded as guests (/出席 @王明) speak as leaders, not as committee members.
    guest_members = {g.person_id for g in guest_records if g.person_id is not None}
    participants: list[Participant] = []
    staff: list[Participant] = []
    guests: list[Guest] = []
    for member, profile in people:
        member_id = member.id
        assert member_id is not None
        if profile is not None and profile.department:
            guests.append(Guest(member.name, profile.department, profile.title, recorded=False))
            continue
        if member_id in guest_members:
            continue
        commands = done[member_id]
        roles = {Role.MEMBER, *granted.get(member_id, ())}
        if member_id == consultation.opened_by:
            # Whoever opened it was its moderator, even if only the platform said so.
            roles.add(Role.MODERATOR)
        if profile is not None:
            roles |= {Role(role) for role in profile.roles}
        roles |= _roles_shown_by(commands, known=roles)
        person = Participant(
            member_id=member_id,
            name=member.name,
            roles=tuple(sorted(roles, key=lambda role: role.rank)),
            sector=profile.sector if profile is not None else "",
            messages=sum(commands.values()),
        )
        if roles & STAFF_ROLES and commands:
            staff.append(person)
        elif not roles & STAFF_ROLES and TAKING_PART.intersection(commands):
            participants.append(person)
    recorded = [Guest(g.name, g.department, g.title, recorded=True) for g in guest_records]
    # A /出席 record wins over what config knows of the same person.
    named = {guest.name for guest in recorded}
    guests = recorded + [guest for guest in guests if guest.name not in named]
    return Attendance(participants=tuple(participants), guests=tuple(guests), staff=tuple(staff))


def _roles_shown_by(commands: Iterable[str], *, known: set[Role]) -> set[Role]:
    """The staff roles that the staff commands someone ran show they held. A command one
    role may run names it; one that several may run, when no role known or shown already
    covers it, is taken for the narrowest of them (秘书 of 主持人 and 秘书, 部门联络员 of
    秘书 and 部门联络员): the wider role would have shown itself in a command of its own."""
    allowed = [STAFF_COMMANDS[name] for name in sorted(commands) if name in STAFF_COMMANDS]
    shown = {next(iter(roles)) for roles in allowed if len(roles) == 1}
    for roles in allowed:
        if not roles & (known | shown):
            shown.add(max(roles, key=lambda role: role.rank))
    return shown


def _granted_roles(
    session: Session, *, group_ids: set[int]
) -> defaultdict[int, defaultdict[int, set[Role]]]:
    """Roles granted in each group: group id to member id to roles."""
    granted: defaultdict[int, defaultdict[int, set[Role]]] = defaultdict(lambda: defaultdict(set))
    for chunk in chunks(sorted(group_ids)):
        for group_id, member_id, role in session.exec(
            select(MemberRole.group_id, MemberRole.member_id, MemberRole.role).where(
                col(MemberRole.group_id).in_(chunk)
            )
        ):
            granted[group_id][member_id].add(Role(role))
    return granted

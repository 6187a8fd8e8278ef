"""Who took part in a consultation: members with their role and sector (界别), and the
leaders and department representatives who attended."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.enums import Role
from storage.groups import get_group
from storage.models import Consultation, InboundEvent, Member, MemberRole
from storage.sql import insert
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
) -> bool:
    """Record an attending leader or department representative; False when it replaced
    an earlier record of the same person (their department or title corrected)."""
    statement = insert(session, GuestAttendance).values(
        consultation_id=consultation_id,
        name=name,
        department=department,
        title=title,
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
            set_={"department": department, "title": title, "recorded_at": now},
        )
    )
    return existed is None


@dataclass(frozen=True, slots=True)
class Participant:
    """A member who wrote to the bot during the consultation."""

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
    """Who took part in one consultation."""

    participants: tuple[Participant, ...]
    guests: tuple[Guest, ...]


def consultation_attendance(session: Session, *, consultation_id: int) -> Attendance:
    """Members who wrote to the bot while the consultation was open (with role and sector
    from config, granted roles and who opened it), and the leaders present."""
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise LookupError(f"no consultation {consultation_id}")
    group = get_group(session, group_id=consultation.group_id)
    window: list[sa.ColumnElement[bool]] = [
        col(InboundEvent.platform) == group.platform,
        col(InboundEvent.conversation_id) == group.conversation_id,
        col(InboundEvent.received_at) >= consultation.opened_at,
        col(InboundEvent.outcome) != "ignored",
    ]
    if consultation.closed_at is not None:
        window.append(col(InboundEvent.received_at) <= consultation.closed_at)
    rows = session.exec(
        select(Member, MemberProfile, sa.func.count(col(InboundEvent.id)))
        .join(
            Member,
            sa.and_(
                col(Member.platform) == col(InboundEvent.platform),
                col(Member.user_id) == col(InboundEvent.sender_id),
            ),
        )
        .outerjoin(
            MemberProfile,
            sa.and_(
                col(MemberProfile.platform) == col(Member.platform),
                col(MemberProfile.user_id) == col(Member.user_id),
            ),
        )
        .where(*window)
        .group_by(col(Member.id), col(MemberProfile.id))
        .order_by(col(Member.id))
    ).all()
    granted = _granted_roles(session, group_id=consultation.group_id)
    participants: list[Participant] = []
    guests: list[Guest] = []
    for member, profile, messages in rows:
        assert member.id is not None
        if profile is not None and profile.department:
            guests.append(Guest(member.name, profile.department, profile.title, recorded=False))
            continue
        roles = {Role.MEMBER, *granted[member.id]}
        if member.id == consultation.opened_by:
            # Whoever opened it was its moderator, even if only the platform said so.
            roles.add(Role.MODERATOR)
        if profile is not None:
            roles |= {Role(role) for role in profile.roles}
        participants.append(
            Participant(
                member_id=member.id,
                name=member.name,
                roles=tuple(sorted(roles, key=lambda role: role.rank)),
                sector=profile.sector if profile is not None else "",
                messages=int(messages),
            )
        )
    recorded = [
        Guest(g.name, g.department, g.title, recorded=True)
        for g in session.exec(
            select(GuestAttendance)
            .where(GuestAttendance.consultation_id == consultation_id)
            .order_by(col(GuestAttendance.id))
        )
    ]
    # A /出席 record wins over what config knows of the same person.
    named = {guest.name for guest in recorded}
    guests = recorded + [guest for guest in guests if guest.name not in named]
    return Attendance(participants=tuple(participants), guests=tuple(guests))


def _granted_roles(session: Session, *, group_id: int) -> dict[int, set[Role]]:
    granted: defaultdict[int, set[Role]] = defaultdict(set)
    for member_id, role in session.exec(
        select(MemberRole.member_id, MemberRole.role).where(MemberRole.group_id == group_id)
    ):
        granted[member_id].add(Role(role))
    return granted

"""Groups, members and the roles granted in a group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.enums import Role
from storage.models import ChatGroup, InboundEvent, Member, MemberRole
from storage.sql import connection, insert, prepared

_GROUPS: Any = ChatGroup.__table__  # type: ignore[attr-defined]
_MEMBERS: Any = Member.__table__  # type: ignore[attr-defined]


def _upsert_group(insert: Callable[[Any], Any]) -> Any:
    table = _GROUPS
    return (
        insert(table)
        .values(
            {
                name: sa.bindparam(name)
                for name in ("platform", "conversation_id", "title", "created_at")
            }
        )
        .on_conflict_do_update(
            index_elements=["platform", "conversation_id"],
            # A card click carries no group title: an empty one keeps what is stored.
            set_={"title": func.coalesce(func.nullif(sa.bindparam("title"), ""), table.c.title)},
        )
        .returning(table.c.id)
    )


def ensure_group(
    session: Session, *, platform: str, conversation_id: str, title: str, now: datetime
) -> int:
    """The id of the group, created on its first message; the title follows the latest
    (an empty title keeps the stored one)."""
    result = connection(session).execute(
        prepared(session, _upsert_group),
        {
            "platform": platform,
            "conversation_id": conversation_id,
            "title": title,
            "created_at": now,
        },
    )
    return int(result.scalar_one())


def _upsert_member(insert: Callable[[Any], Any]) -> Any:
    table = _MEMBERS
    return (
        insert(table)
        .values(
            {name: sa.bindparam(name) for name in ("platform", "user_id", "name", "created_at")}
        )
        .on_conflict_do_update(
            index_elements=["platform", "user_id"], set_={"name": sa.bindparam("name")}
        )
        .returning(table.c.id)
    )


def ensure_member(
    session: Session, *, platform: str, user_id: str, name: str, now: datetime
) -> int:
    """The id of the member, created on their first message; the name follows the latest."""
    result = connection(session).execute(
        prepared(session, _upsert_member),
        {"platform": platform, "user_id": user_id, "name": name, "created_at": now},
    )
    return int(result.scalar_one())


def ensure_member_keeping_name(
    session: Session, *, platform: str, user_id: str, fallback_name: str, now: datetime
) -> tuple[int, str]:
    """The id and stored name of a member the platform did not name (a card click)."""
    statement = (
        insert(session, Member)
        .values(platform=platform, user_id=user_id, name=fallback_name, created_at=now)
        .on_conflict_do_update(index_elements=["platform", "user_id"], set_={"name": Member.name})
        .returning(Member.id, Member.name)
    )
    row = session.execute(statement).one()
    return int(row[0]), str(row[1])


def get_group(session: Session, *, group_id: int) -> ChatGroup:
    """A group by id."""
    group = session.get(ChatGroup, group_id)
    if group is None:
        raise LookupError(f"no group {group_id}")
    return group


def member_names(session: Session, *, member_ids: set[int]) -> dict[int, str]:
    """Display names of the given members."""
    if not member_ids:
        return {}
    rows = session.exec(select(Member.id, Member.name).where(col(Member.id).in_(member_ids)))
    return {member_id: name for member_id, name in rows if member_id is not None}


def granted_roles(session: Session, *, member_id: int, group_id: int) -> set[Role]:
    """Roles granted to the member in this group (beside config and platform roles)."""
    rows = session.exec(
        select(MemberRole.role).where(
            MemberRole.member_id == member_id, MemberRole.group_id == group_id
        )
    )
    return {Role(role) for role in rows}


@dataclass(frozen=True, slots=True)
class KnownMember:
    """A member as the group knows them."""

    id: int
    user_id: str
    name: str


def find_member(
    session: Session, *, platform: str, user_id: str = "", name: str = ""
) -> KnownMember | None:
    """The member with this platform id, or else the one member of the platform with this
    name (or id written as a name); None when unknown or when the name is ambiguous."""
    if user_id:
        condition = sa.and_(col(Member.platform) == platform, col(Member.user_id) == user_id)
    elif name:
        condition = sa.and_(
            col(Member.platform) == platform,
            sa.or_(col(Member.name) == name, col(Member.user_id) == name),
        )
    else:
        return None
    found = session.exec(select(Member).where(condition).limit(2)).all()
    if len(found) != 1 or found[0].id is None:
        return None
    return KnownMember(found[0].id, found[0].user_id, found[0].name)


def group_members(session: Session, *, group_id: int) -> list[KnownMember]:
    """Everyone who has written in the group (the members the bot knows there)."""
    group = get_group(session, group_id=group_id)
    senders = (
        sa.select(col(InboundEvent.sender_id))
        .where(
            col(InboundEvent.platform) == group.platform,
            col(InboundEvent.conversation_id) == group.conversation_id,
        )
        .distinct()
    )
    rows = session.exec(
        select(Member)
        .where(col(Member.platform) == group.platform, col(Member.user_id).in_(senders))
        .order_by(col(Member.id))
    ).all()
    return [KnownMember(m.id, m.user_id, m.name) for m in rows if m.id is not None]


def grant_role(
    session: Session,
    *,
    member_id: int,
    group_id: int,
    role: Role,
    granted_by: int | None,
    now: datetime,
) -> None:
    """Give a member a role in one group (kept if they have it already)."""
    statement = (
        insert(session, MemberRole)
        .values(
            member_id=member_id,
            group_id=group_id,
            role=role,
            granted_by=granted_by,
            granted_at=now,
        )
        .on_conflict_do_nothing(index_elements=["member_id", "group_id", "role"])
    )
    session.execute(statement)

"""Groups, members and the roles granted in a group."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.enums import Role
from storage.models import ChatGroup, Member, MemberRole
from storage.sql import insert


def ensure_group(
    session: Session, *, platform: str, conversation_id: str, title: str, now: datetime
) -> int:
    """The id of the group, created on its first message; an empty title keeps the stored one."""
    statement = insert(session, ChatGroup).values(
        platform=platform, conversation_id=conversation_id, title=title, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "conversation_id"],
        set_={"title": func.coalesce(func.nullif(statement.excluded.title, ""), ChatGroup.title)},
    ).returning(ChatGroup.id)
    return int(session.execute(statement).scalar_one())


def ensure_member(
    session: Session, *, platform: str, user_id: str, name: str, now: datetime
) -> int:
    """The id of the member, created on their first message; the name follows the latest."""
    statement = (
        insert(session, Member)
        .values(platform=platform, user_id=user_id, name=name, created_at=now)
        .on_conflict_do_update(index_elements=["platform", "user_id"], set_={"name": name})
        .returning(Member.id)
    )
    return int(session.execute(statement).scalar_one())


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

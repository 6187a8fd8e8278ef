"""People who sign in to the secretary console, and the hashes of their tokens.

Only a SHA-256 hash of each token is kept: tokens are 256 random bits made by
`xieshang user add`, so a fast hash cannot be reversed by guessing, and a stolen database
holds nothing to sign in with.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import _enum, _utc


class ConsoleRole(StrEnum):
    """What a console user may do: a secretary everything, a leader read and download."""

    SECRETARY = "secretary"
    LEADER = "leader"

    @property
    def label(self) -> str:
        """The Chinese name shown on the page."""
        return "秘书" if self is ConsoleRole.SECRETARY else "领导（只读）"


class ConsoleUser(SQLModel, table=True):
    """A console user created with `xieshang user add`; the token itself is never stored."""

    __tablename__ = "console_user"
    __table_args__ = (sa.UniqueConstraint("name"), sa.UniqueConstraint("token_hash"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32)
    role: ConsoleRole = Field(sa_type=_enum(ConsoleRole))
    token_hash: str = Field(max_length=64)
    created_at: datetime = _utc()


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def save_console_user(
    session: Session, *, name: str, role: ConsoleRole, token: str, now: datetime
) -> bool:
    """Create the user, or give an existing one a new token and role; True when created."""
    user = session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()
    created = user is None
    if user is None:
        user = ConsoleUser(name=name, role=role, token_hash=hash_token(token), created_at=now)
    else:
        user.role = role
        user.token_hash = hash_token(token)
    session.add(user)
    session.flush()
    return created


def console_user_by_token(session: Session, *, token: str) -> ConsoleUser | None:
    """The user whose token this is, if any."""
    return session.exec(
        select(ConsoleUser).where(ConsoleUser.token_hash == hash_token(token))
    ).first()


def console_user_by_id(session: Session, *, user_id: int) -> ConsoleUser | None:
    """A user by id (to check a signed-in session is still valid)."""
    return session.get(ConsoleUser, user_id)


def list_console_users(session: Session) -> list[ConsoleUser]:
    """Every user created in the database, by name."""
    return list(session.exec(select(ConsoleUser).order_by(col(ConsoleUser.name))))


def remove_console_user_by_id(session: Session, *, user_id: int) -> bool:
    """Remove a user by id (from the console's users page); False if unknown."""
    user = session.get(ConsoleUser, user_id)
    if user is None:
        return False
    session.delete(user)
    session.flush()
    return True


def remove_console_user(session: Session, *, name: str) -> bool:
    """Remove a user (their sessions stop working at the next request); False if unknown."""
    user = session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()
    if user is None:
        return False
    session.delete(user)
    session.flush()
    return True

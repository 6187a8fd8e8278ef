"""People who sign in to the secretary console, the hashes of their tokens, and their
sessions.

Only a SHA-256 hash of each token is kept: tokens are 256 random bits made by
`xieshang user add`, so a fast hash cannot be reversed by guessing, and a stolen database
holds nothing to sign in with. Sessions are kept the same way: the browser's cookie holds
a random key, the database its hash; signing out deletes the row, so a copied cookie stops
working at once, in every process.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, delete, select

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


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: who it is, until when. Found by the hash of the cookie's key."""

    __tablename__ = "console_session"
    __table_args__ = (sa.UniqueConstraint("key_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64)
    name: str = Field(max_length=32)
    role: ConsoleRole = Field(sa_type=_enum(ConsoleRole))
    # The database user's id; None for a user named in config. No foreign key: removing a
    # user deletes their sessions itself (`_end_sessions_of`).
    user_id: int | None = Field(default=None, index=True)
    # A prefix of the token's hash at sign-in: a new token ends the old sessions.
    stamp: str = Field(max_length=16)
    created_at: datetime = _utc()
    expires_at: datetime = _utc(index=True)


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
        _end_sessions_of(session, user.id)
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
    _end_sessions_of(session, user.id)
    session.delete(user)
    session.flush()
    return True


def remove_console_user(session: Session, *, name: str) -> bool:
    """Remove a user (their sessions stop working at the next request); False if unknown."""
    user = session.exec(select(ConsoleUser).where(ConsoleUser.name == name)).first()
    if user is None:
        return False
    _end_sessions_of(session, user.id)
    session.delete(user)
    session.flush()
    return True


def _end_sessions_of(session: Session, user_id: int | None) -> None:
    if user_id is not None:
        session.exec(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user_id))


def open_console_session(
    session: Session,
    *,
    key: str,
    name: str,
    role: ConsoleRole,
    user_id: int | None,
    stamp: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Keep a new sign-in under the hash of its cookie's key (and forget expired ones)."""
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now))
    session.add(
        ConsoleSession(
            key_hash=hash_token(key),
            name=name,
            role=role,
            user_id=user_id,
            stamp=stamp,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()


def console_session_by_key(session: Session, *, key: str, now: datetime) -> ConsoleSession | None:
    """The unexpired sign-in whose cookie carries `key`, if it was not signed out."""
    return session.exec(
        select(ConsoleSession).where(
            ConsoleSession.key_hash == hash_token(key), col(ConsoleSession.expires_at) > now
        )
    ).first()


def close_console_session(session: Session, *, key: str) -> bool:
    """Sign out: the session ends for every copy of its cookie. False if it had ended."""
    found = session.exec(
        select(ConsoleSession).where(ConsoleSession.key_hash == hash_token(key))
    ).first()
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True

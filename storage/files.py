"""Stored documents as files for the chat: their bytes where each feature keeps them, the
workbooks made for a group, and the media ids platforms gave for what was uploaded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import ChatFile, MinutesVersion, PlatformMedia
from storage.sql import insert
from storage.step_tables import ReferralLetter

_MEDIA: Any = PlatformMedia.__table__  # type: ignore[attr-defined]


def file_content(session: Session, *, source: str, file_id: int) -> bytes | None:
    """The bytes of a stored document: a minutes version's DOCX (`minutes`), a letter's
    DOCX as issued (`letter`) or a file made for the chat (`chat`); None when it is gone
    or was never rendered."""
    column: Any
    if source == "minutes":
        column = MinutesVersion.docx
        table: Any = MinutesVersion
    elif source == "letter":
        column, table = ReferralLetter.docx, ReferralLetter
    elif source == "chat":
        column, table = ChatFile.content, ChatFile
    else:
        return None
    found = session.exec(select(column).where(table.id == file_id)).first()
    return bytes(found) if found else None


def store_chat_file(session: Session, *, name: str, content: bytes, now: datetime) -> int:
    """Keep a file made for a group; returns its id."""
    kept = ChatFile(name=name, content=content, created_at=now)
    session.add(kept)
    session.flush()
    assert kept.id is not None
    return kept.id


def media_for(session: Session, *, platform: str, file_key: str, now: datetime) -> str | None:
    """The media id `platform` gave for the document, while it still holds it."""
    row = session.execute(
        sa.select(_MEDIA.c.media_id).where(
            _MEDIA.c.platform == platform,
            _MEDIA.c.file_key == file_key,
            sa.or_(_MEDIA.c.expires_at.is_(None), _MEDIA.c.expires_at > now),
        )
    ).first()
    return str(row.media_id) if row is not None else None


def remember_media(
    session: Session,
    *,
    platform: str,
    file_key: str,
    media_id: str,
    now: datetime,
    expires_at: datetime | None,
) -> None:
    """Keep the media id of an upload (a later upload of the same document replaces it)."""
    values = {"media_id": media_id, "uploaded_at": now, "expires_at": expires_at}
    session.execute(
        insert(session, _MEDIA)
        .values(platform=platform, file_key=file_key, **values)
        .on_conflict_do_update(index_elements=["platform", "file_key"], set_=values)
    )


def forget_media(session: Session, *, platform: str, file_key: str) -> None:
    """The platform no longer knows the media id: upload again next time."""
    session.execute(
        sa.delete(_MEDIA).where(_MEDIA.c.platform == platform, _MEDIA.c.file_key == file_key)
    )

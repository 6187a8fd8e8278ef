"""The console's view of the stored minutes versions (`storage.minutes`): plain values
for the templates, and the themes that filter the opinions table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import minutes as store
from storage.models import MinutesVersion


@dataclass(frozen=True, slots=True)
class MinutesEntry:
    """One stored version of a consultation's minutes."""

    number: int
    created_at: datetime
    method: str
    markdown: str
    body: dict[str, Any]
    docx: bytes


@dataclass(frozen=True, slots=True)
class Theme:
    """A theme of the minutes and the opinion numbers it gathers (the opinions filter)."""

    title: str
    numbers: frozenset[int]


def _entry(row: MinutesVersion) -> MinutesEntry:
    return MinutesEntry(
        number=row.number,
        created_at=row.created_at,
        method=row.method,
        markdown=row.markdown,
        body=json.loads(row.body),
        docx=bytes(row.docx),
    )


def minutes_versions(session: Session, *, consultation_id: int) -> list[MinutesEntry]:
    """Every version of the consultation's minutes, newest first."""
    return [_entry(row) for row in store.minutes_versions(session, consultation_id)]


def minutes_version(
    session: Session, *, consultation_id: int, number: int | None = None
) -> MinutesEntry | None:
    """One version (the latest when `number` is None), or None."""
    row = store.minutes_version(session, consultation_id, number)
    return None if row is None else _entry(row)


def themes_of(entry: MinutesEntry | None) -> list[Theme]:
    """The themes of a version's JSON, each with the numbers of the opinions it quotes."""
    if entry is None:
        return []
    themes = []
    for theme in entry.body.get("themes", []):
        quotes = theme.get("opinions", [])
        numbers = frozenset(int(q["id"]) for q in quotes if str(q.get("id", "")).isdigit())
        themes.append(Theme(str(theme.get("title", "")), numbers))
    return themes

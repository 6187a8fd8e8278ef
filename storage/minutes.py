"""Minutes: their stored versions, the requests waiting to be built, and the rows a summary
reads (statements with authors, seconds, stances, stored sentence vectors)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.enums import OpinionKind
from storage.models import (
    Consultation,
    Member,
    MinutesRequest,
    MinutesVersion,
    Opinion,
    Second,
    StanceMark,
    StatementVector,
)
from storage.sequences import next_in_sequence
from storage.sql import insert

# --- versions -------------------------------------------------------------------------


def add_minutes_version(
    session: Session,
    *,
    consultation_id: int,
    markdown: str,
    body: dict[str, Any],
    docx: bytes,
    method: str,
    created_by: int | str | None,
    now: datetime,
) -> MinutesVersion:
    """Store a new, immutable version under the consultation's next number (1, 2, 3…;
    atomic across processes). `created_by` is a member's database id (as an int or its
    decimal string, as the issue's contract spells it), or None from the command line."""
    if isinstance(created_by, str):
        if not created_by.isdigit():
            raise ValueError(f"created_by must be a member id, not {created_by!r}")
        created_by = int(created_by)
    number = next_in_sequence(session, consultation_id=consultation_id, name="minutes")
    version = MinutesVersion(
        consultation_id=consultation_id,
        number=number,
        created_at=now,
        created_by=created_by,
        method=method,
        markdown=markdown,
        body=json.dumps(body, ensure_ascii=False),
        docx=docx,
    )
    session.add(version)
    session.flush()
    return version


def minutes_versions(session: Session, consultation_id: int) -> list[MinutesVersion]:
    """Every version of the consultation's minutes, newest first."""
    return list(
        session.exec(
            select(MinutesVersion)
            .where(MinutesVersion.consultation_id == consultation_id)
            .order_by(col(MinutesVersion.number).desc())
        )
    )


def minutes_version(
    session: Session, consultation_id: int, number: int | None = None
) -> MinutesVersion | None:
    """Version `number` of the consultation's minutes, or the latest when None."""
    query = select(MinutesVersion).where(MinutesVersion.consultation_id == consultation_id)
    if number is not None:
        return session.exec(query.where(MinutesVersion.number == number)).first()
    return session.exec(query.order_by(col(MinutesVersion.number).desc()).limit(1)).first()


# --- requests -------------------------------------------------------------------------


def request_minutes(
    session: Session,
    *,
    consultation_id: int,
    platform: str,
    conversation_id: str,
    member_id: int,
    reply: dict[str, Any],
    now: datetime,
) -> MinutesRequest | None:
    """Queue a `/纪要` for the worker; None when one for the consultation is still waiting
    (a second request would only build the same minutes twice)."""
    waiting = session.exec(
        select(MinutesRequest.id).where(
            MinutesRequest.consultation_id == consultation_id,
            col(MinutesRequest.done_at).is_(None),
        )
    ).first()
    if waiting is not None:
        return None
    request = MinutesRequest(
        consultation_id=consultation_id,
        platform=platform,
        conversation_id=conversation_id,
        requested_by=member_id,
        reply=reply,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    return request


def claim_minutes_request(
    session: Session, *, now: datetime, stale_after: timedelta
) -> MinutesRequest | None:
    """Take the oldest waiting request for this worker, or None.

    The claim is a conditional UPDATE, so two processes never build the same request; a
    claim older than `stale_after` (its worker died) may be taken over.
    """
    table: Any = MinutesRequest.__table__  # type: ignore[attr-defined]
    stale = now - stale_after
    candidates: list[int] = list(
        session.execute(
            sa.select(table.c.id)
            .where(table.c.done_at.is_(None))
            .where(sa.or_(table.c.claimed_at.is_(None), table.c.claimed_at < stale))
            .order_by(table.c.id)
            .limit(5)
        ).scalars()
    )
    for request_id in candidates:
        claimed = session.execute(
            sa.update(table)
            .where(table.c.id == request_id, table.c.done_at.is_(None))
            .where(sa.or_(table.c.claimed_at.is_(None), table.c.claimed_at < stale))
            .values(claimed_at=now)
        )
        if getattr(claimed, "rowcount", 0) == 1:
            return session.get(MinutesRequest, request_id)
    return None


def finish_minutes_request(
    session: Session, *, request_id: int, version_id: int | None, now: datetime
) -> None:
    """Mark a request done (with the version it produced, if any)."""
    table: Any = MinutesRequest.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table).where(table.c.id == request_id).values(done_at=now, version_id=version_id)
    )


# --- what a summary reads ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementRow:
    """A statement with its author, as the summarizer needs it."""

    id: int
    number: int
    kind: OpinionKind
    text: str
    member_id: int
    author: str
    created_at: datetime
    retracted: bool


def consultation_statements(session: Session, *, consultation_id: int) -> list[StatementRow]:
    """Every statement of the consultation (retracted ones flagged), in number order."""
    rows = session.exec(
        select(Opinion, Member.name)
        .join(Member, col(Member.id) == col(Opinion.member_id))
        .where(Opinion.consultation_id == consultation_id)
        .order_by(col(Opinion.number))
    )
    statements = []
    for opinion, name in rows:
        assert opinion.id is not None
        statements.append(
            StatementRow(
                id=opinion.id,
                number=opinion.number,
                kind=opinion.kind,
                text=opinion.text,
                member_id=opinion.member_id,
                author=name,
                created_at=opinion.created_at,
                retracted=opinion.retracted_at is not None,
            )
        )
    return statements


def consultation_seconds(session: Session, *, consultation_id: int) -> dict[int, list[int]]:
    """Who seconded each statement: opinion id -> member ids, in the order they did."""
    rows = session.exec(
        select(Second.opinion_id, Second.member_id)
        .join(Opinion, col(Opinion.id) == col(Second.opinion_id))
        .where(Opinion.consultation_id == consultation_id)
        .order_by(col(Second.id))
    )
    seconds: dict[int, list[int]] = {}
    for opinion_id, member_id in rows:
        seconds.setdefault(opinion_id, []).append(member_id)
    return seconds


def consultation_stances(session: Session, *, consultation_id: int) -> list[tuple[int, int, int]]:
    """Every stance as (opinion id, member id, value)."""
    rows = session.exec(
        select(StanceMark.opinion_id, StanceMark.member_id, StanceMark.value)
        .join(Opinion, col(Opinion.id) == col(StanceMark.opinion_id))
        .where(Opinion.consultation_id == consultation_id)
        .order_by(col(StanceMark.id))
    )
    return [(opinion_id, member_id, value) for opinion_id, member_id, value in rows]


# --- sentence vectors -----------------------------------------------------------------


def statements_without_vector(
    session: Session, *, model: str, limit: int, consultation_id: int | None = None
) -> list[tuple[int, str]]:
    """(opinion id, text) of live statements in open consultations (or in the one given,
    open or not) that have no vector of `model` yet, oldest first.

    Only open consultations are searched, so the idle check costs what they hold rather
    than the whole history; a statement gets its vector seconds after it is said.
    """
    has_vector = (
        sa.select(col(StatementVector.id))
        .where(
            col(StatementVector.opinion_id) == col(Opinion.id),
            col(StatementVector.model) == model,
        )
        .exists()
    )
    statement = select(Opinion.id, Opinion.text).where(
        col(Opinion.retracted_at).is_(None), ~has_vector
    )
    if consultation_id is None:
        statement = statement.join(
            Consultation, col(Consultation.id) == col(Opinion.consultation_id)
        ).where(col(Consultation.closed_at).is_(None))
    else:
        statement = statement.where(col(Opinion.consultation_id) == consultation_id)
    rows = session.exec(statement.order_by(col(Opinion.id)).limit(limit))
    return [(opinion_id, text) for opinion_id, text in rows if opinion_id is not None]


def store_vectors(session: Session, *, model: str, vectors: dict[int, bytes], now: datetime) -> int:
    """Keep the vectors (opinion id -> bytes); another process's earlier ones stand.
    Returns how many were new."""
    stored = 0
    for opinion_id, vector in vectors.items():
        statement = (
            insert(session, StatementVector)
            .values(opinion_id=opinion_id, model=model, vector=vector, created_at=now)
            .on_conflict_do_nothing(index_elements=["opinion_id", "model"])
            .returning(StatementVector.id)
        )
        if session.execute(statement).first() is not None:
            stored += 1
    return stored


def consultation_vectors(session: Session, *, consultation_id: int, model: str) -> dict[int, bytes]:
    """The stored vectors of `model` for the consultation's statements, by opinion id."""
    rows = session.exec(
        select(StatementVector.opinion_id, StatementVector.vector)
        .join(Opinion, col(Opinion.id) == col(StatementVector.opinion_id))
        .where(Opinion.consultation_id == consultation_id, StatementVector.model == model)
    )
    return {opinion_id: bytes(vector) for opinion_id, vector in rows}

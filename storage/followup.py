"""The loop from suggestion to policy: leaders' 签批 on a consultation or a referral, and the
documents issued because of it (发文), as the CPPCC's year table counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlmodel import Session, col, select

from storage.enums import DocumentIssuer
from storage.models import Consultation
from storage.sequences import next_in_group
from storage.step_tables import LeaderSignoff, PolicyDocument, Referral

Recorded = TypeVar("Recorded", LeaderSignoff, PolicyDocument)


def _group_of(session: Session, consultation_id: int) -> int:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise LookupError(f"no consultation {consultation_id}")
    return consultation.group_id


def find_signoff(
    session: Session,
    *,
    consultation_id: int,
    referral_id: int | None,
    leader: str,
    signed_on: date,
    instruction: str,
) -> LeaderSignoff | None:
    """The same 签批 recorded before (same leader, day, words and subject), if any."""
    return session.exec(
        select(LeaderSignoff).where(
            LeaderSignoff.consultation_id == consultation_id,
            col(LeaderSignoff.referral_id).is_(None)
            if referral_id is None
            else LeaderSignoff.referral_id == referral_id,
            LeaderSignoff.leader == leader,
            LeaderSignoff.signed_on == signed_on,
            LeaderSignoff.instruction == instruction,
        )
    ).first()


def record_signoff(
    session: Session,
    *,
    consultation_id: int,
    referral_id: int | None,
    leader: str,
    title: str,
    signed_on: date,
    instruction: str,
    member_id: int,
    message_id: str,
    now: datetime,
) -> LeaderSignoff:
    """Keep a leader's 签批 under the group's next 签批 number."""
    number = next_in_group(session, group_id=_group_of(session, consultation_id), name="signoff")
    signoff = LeaderSignoff(
        consultation_id=consultation_id,
        referral_id=referral_id,
        number=number,
        leader=leader,
        title=title,
        signed_on=signed_on,
        instruction=instruction,
        recorded_by=member_id,
        recorded_at=now,
        message_id=message_id,
    )
    session.add(signoff)
    session.flush()
    return signoff


def find_document(session: Session, *, consultation_id: int, title: str) -> PolicyDocument | None:
    """The document of this title already recorded for the consultation, if any."""
    return session.exec(
        select(PolicyDocument).where(
            PolicyDocument.consultation_id == consultation_id, PolicyDocument.title == title
        )
    ).first()


def record_document(
    session: Session,
    *,
    consultation_id: int,
    referral_id: int | None,
    issuer: DocumentIssuer,
    doc_number: str,
    title: str,
    issued_on: date,
    member_id: int,
    message_id: str,
    now: datetime,
) -> PolicyDocument:
    """Keep a document issued because of the consultation, under the group's next number."""
    number = next_in_group(session, group_id=_group_of(session, consultation_id), name="document")
    document = PolicyDocument(
        consultation_id=consultation_id,
        referral_id=referral_id,
        number=number,
        issuer=issuer,
        doc_number=doc_number,
        title=title,
        issued_on=issued_on,
        recorded_by=member_id,
        recorded_at=now,
        message_id=message_id,
    )
    session.add(document)
    session.flush()
    return document


def numbered_in_group(
    session: Session, kind: type[Recorded], *, group_id: int, numbers: tuple[int, ...]
) -> dict[int, Recorded]:
    """The group's 签批 (or documents) of these numbers, by number; missing ones left out."""
    rows = session.exec(
        select(kind)
        .join(Consultation, col(Consultation.id) == col(kind.consultation_id))
        .where(Consultation.group_id == group_id, col(kind.number).in_(numbers))
    )
    return {row.number: row for row in rows}


def remove_recorded(session: Session, rows: list[Recorded]) -> None:
    """Take 签批 or documents recorded in error out of the record. Their numbers are not given
    again, and minutes versions already issued keep them as they were."""
    for row in rows:
        session.delete(row)
    session.flush()


@dataclass(frozen=True, slots=True)
class SignoffEntry:
    """A 签批 as the minutes, the console and the group show it."""

    number: int
    leader: str
    title: str
    signed_on: date
    instruction: str
    # The referral it was written on (its number in the group), or None for the consultation.
    referral_number: int | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """A document issued, as the minutes, the console and the group show it."""

    number: int
    issuer: DocumentIssuer
    doc_number: str
    title: str
    issued_on: date
    referral_number: int | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUpRecords:
    """What came of a consultation (or of one referral): 签批 and documents, oldest first."""

    signoffs: tuple[SignoffEntry, ...]
    documents: tuple[DocumentEntry, ...]


def follow_up(
    session: Session, *, consultation_id: int, referral_id: int | None = None
) -> FollowUpRecords:
    """The consultation's 签批 and documents (only those on `referral_id` when given)."""
    signoffs = (
        select(LeaderSignoff, Referral.number)
        .outerjoin(Referral, col(Referral.id) == col(LeaderSignoff.referral_id))
        .where(LeaderSignoff.consultation_id == consultation_id)
        .order_by(col(LeaderSignoff.signed_on), col(LeaderSignoff.id))
    )
    documents = (
        select(PolicyDocument, Referral.number)
        .outerjoin(Referral, col(Referral.id) == col(PolicyDocument.referral_id))
        .where(PolicyDocument.consultation_id == consultation_id)
        .order_by(col(PolicyDocument.issued_on), col(PolicyDocument.id))
    )
    if referral_id is not None:
        signoffs = signoffs.where(LeaderSignoff.referral_id == referral_id)
        documents = documents.where(PolicyDocument.referral_id == referral_id)
    return FollowUpRecords(
        signoffs=tuple(
            SignoffEntry(
                number=s.number,
                leader=s.leader,
                title=s.title,
                signed_on=s.signed_on,
                instruction=s.instruction,
                referral_number=number,
                recorded_at=s.recorded_at,
            )
            for s, number in session.exec(signoffs).all()
        ),
        documents=tuple(
            DocumentEntry(
                number=d.number,
                issuer=d.issuer,
                doc_number=d.doc_number,
                title=d.title,
                issued_on=d.issued_on,
                referral_number=number,
                recorded_at=d.recorded_at,
            )
            for d, number in session.exec(documents).all()
        ),
    )

"""The plan of a consultation (制订方案) and the research notes members attach (组织调研)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.sequences import next_in_sequence
from storage.step_tables import ConsultationPlan, ResearchNote


def save_plan(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    now: datetime,
    schedule: str | None = None,
    place: str | None = None,
    departments: list[str] | None = None,
    leaders: list[str] | None = None,
    notes: str | None = None,
) -> ConsultationPlan:
    """Record the fields of the consultation's plan that are given (an empty one clears
    its field); a field left as None keeps what was recorded before."""
    plan = get_plan(session, consultation_id=consultation_id) or ConsultationPlan(
        consultation_id=consultation_id, recorded_by=member_id, recorded_at=now
    )
    if schedule is not None:
        plan.schedule = schedule
    if place is not None:
        plan.place = place
    if departments is not None:
        plan.departments = departments
    if leaders is not None:
        plan.leaders = leaders
    if notes is not None:
        plan.notes = notes
    plan.recorded_by = member_id
    plan.recorded_at = now
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, *, consultation_id: int) -> ConsultationPlan | None:
    """The consultation's plan, if the moderator recorded one."""
    return session.exec(
        select(ConsultationPlan).where(ConsultationPlan.consultation_id == consultation_id)
    ).first()


def add_research_note(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    text: str,
    message_id: str,
    now: datetime,
) -> ResearchNote:
    """Keep a research note under the consultation's next note number."""
    number = next_in_sequence(session, consultation_id=consultation_id, name="research")
    note = ResearchNote(
        consultation_id=consultation_id,
        number=number,
        member_id=member_id,
        text=text,
        message_id=message_id,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return note


def list_research_notes(session: Session, *, consultation_id: int) -> list[ResearchNote]:
    """The consultation's research notes, oldest first."""
    return list(
        session.exec(
            select(ResearchNote)
            .where(ResearchNote.consultation_id == consultation_id)
            .order_by(col(ResearchNote.number))
        )
    )

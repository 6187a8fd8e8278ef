"""Topic proposals (选题) and the polls that choose among them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.sequences import next_in_sequence
from storage.step_tables import TopicPoll, TopicProposal


def find_proposal_by_text(
    session: Session, *, consultation_id: int, text_key: str
) -> TopicProposal | None:
    """The proposal with this folded wording, if someone proposed it already."""
    return session.exec(
        select(TopicProposal).where(
            TopicProposal.consultation_id == consultation_id, TopicProposal.text_key == text_key
        )
    ).first()


def add_proposal(
    session: Session,
    *,
    consultation_id: int,
    member_id: int,
    text: str,
    text_key: str,
    message_id: str,
    now: datetime,
) -> TopicProposal:
    """Keep a topic proposal under the consultation's next proposal number."""
    number = next_in_sequence(session, consultation_id=consultation_id, name="topic")
    proposal = TopicProposal(
        consultation_id=consultation_id,
        number=number,
        member_id=member_id,
        text=text,
        text_key=text_key,
        message_id=message_id,
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    return proposal


def list_proposals(session: Session, *, consultation_id: int) -> list[TopicProposal]:
    """The consultation's topic proposals, in the order they were made."""
    return list(
        session.exec(
            select(TopicProposal)
            .where(TopicProposal.consultation_id == consultation_id)
            .order_by(col(TopicProposal.number))
        )
    )


def link_topic_poll(
    session: Session, *, poll_id: int, consultation_id: int, proposal_numbers: list[int]
) -> None:
    """Mark a poll as choosing the topic among these proposals (in option order)."""
    session.add(
        TopicPoll(
            poll_id=poll_id, consultation_id=consultation_id, proposal_numbers=proposal_numbers
        )
    )
    session.flush()


def get_topic_poll(session: Session, *, poll_id: int) -> TopicPoll | None:
    """The topic-poll link of a poll, or None for an ordinary poll."""
    return session.exec(select(TopicPoll).where(TopicPoll.poll_id == poll_id)).first()

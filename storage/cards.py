"""Poll cards: which card a platform shows for which poll."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import Poll, PollCard


@dataclass(frozen=True, slots=True)
class CardedPoll:
    """The poll a card shows, as a click on the card needs it."""

    poll_id: int
    poll_number: int
    conversation_id: str
    options: tuple[str, ...]


def card_for_poll(
    session: Session,
    *,
    platform: str,
    poll_id: int,
    conversation_id: str,
    new_card_id: str,
    now: datetime,
) -> str:
    """The id of the poll's card in the conversation, recorded as `new_card_id` if it has none."""
    existing = session.exec(
        select(PollCard.card_id).where(
            PollCard.platform == platform,
            PollCard.poll_id == poll_id,
            PollCard.conversation_id == conversation_id,
        )
    ).first()
    if existing is not None:
        return existing
    session.add(
        PollCard(
            platform=platform,
            card_id=new_card_id,
            poll_id=poll_id,
            conversation_id=conversation_id,
            created_at=now,
        )
    )
    session.flush()
    return new_card_id


def mark_card_delivered(session: Session, *, platform: str, card_id: str, now: datetime) -> None:
    """The platform took the card."""
    session.execute(
        sa.update(PollCard)
        .where(col(PollCard.platform) == platform, col(PollCard.card_id) == card_id)
        .values(delivered_at=now)
    )


def delivered_cards(session: Session, *, platform: str, poll_id: int) -> list[str]:
    """Ids of the poll's cards the platform took."""
    return list(
        session.exec(
            select(PollCard.card_id)
            .where(
                PollCard.platform == platform,
                PollCard.poll_id == poll_id,
                col(PollCard.delivered_at).is_not(None),
            )
            .order_by(col(PollCard.id))
        )
    )


def find_carded_poll(session: Session, *, platform: str, card_id: str) -> CardedPoll | None:
    """The poll a card shows, or None for a card the bot does not know."""
    row = session.exec(
        select(Poll.id, Poll.number, Poll.options, PollCard.conversation_id)
        .join(Poll, col(Poll.id) == col(PollCard.poll_id))
        .where(PollCard.platform == platform, PollCard.card_id == card_id)
    ).first()
    if row is None:
        return None
    poll_id, number, options, conversation_id = row
    assert poll_id is not None
    return CardedPoll(poll_id, number, conversation_id, tuple(options))

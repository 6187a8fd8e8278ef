"""Cards: which card a platform shows for which card key (`poll:12`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import ShownCard as ShownCardRow


@dataclass(frozen=True, slots=True)
class ShownCard:
    """What a platform's card shows, and in which conversation."""

    card_key: str
    conversation_id: str


def card_for_key(
    session: Session,
    *,
    platform: str,
    card_key: str,
    conversation_id: str,
    new_card_id: str,
    now: datetime,
) -> str:
    """The id of the card showing `card_key` in the conversation, recorded as `new_card_id`
    if it has none."""
    existing = session.exec(
        select(ShownCardRow.card_id).where(
            ShownCardRow.platform == platform,
            ShownCardRow.card_key == card_key,
            ShownCardRow.conversation_id == conversation_id,
        )
    ).first()
    if existing is not None:
        return existing
    session.add(
        ShownCardRow(
            platform=platform,
            card_id=new_card_id,
            card_key=card_key,
            conversation_id=conversation_id,
            created_at=now,
        )
    )
    session.flush()
    return new_card_id


def mark_card_delivered(session: Session, *, platform: str, card_id: str, now: datetime) -> None:
    """The platform took the card."""
    session.execute(
        sa.update(ShownCardRow)
        .where(col(ShownCardRow.platform) == platform, col(ShownCardRow.card_id) == card_id)
        .values(delivered_at=now)
    )


def delivered_cards(session: Session, *, platform: str, card_key: str) -> list[str]:
    """Ids of the cards showing `card_key` that the platform took."""
    return list(
        session.exec(
            select(ShownCardRow.card_id)
            .where(
                ShownCardRow.platform == platform,
                ShownCardRow.card_key == card_key,
                col(ShownCardRow.delivered_at).is_not(None),
            )
            .order_by(col(ShownCardRow.id))
        )
    )


def find_card(session: Session, *, platform: str, card_id: str) -> ShownCard | None:
    """What a card shows, or None for a card the bot does not know."""
    row = session.exec(
        select(ShownCardRow.card_key, ShownCardRow.conversation_id).where(
            ShownCardRow.platform == platform, ShownCardRow.card_id == card_id
        )
    ).first()
    return None if row is None else ShownCard(card_key=row[0], conversation_id=row[1])

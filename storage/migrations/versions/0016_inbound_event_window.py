"""Index the event log by conversation and time, for attendance

Who took part in a consultation is read from the events of its group while it was open.
Without this index every consultation's attendance (a `/纪要`, each row of a year's table)
read the whole event log: a province's year table of 3,100 sessions took 36 seconds.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_event_conversation_time",
        "inbound_event",
        ["platform", "conversation_id", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_event_conversation_time", table_name="inbound_event")

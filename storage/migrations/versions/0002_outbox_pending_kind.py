"""Index pending outbox rows by kind too, so card updates are found directly.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pending", sqlite_where=PENDING, postgresql_where=PENDING)
        batch.create_index(
            "ix_outbox_pending_kind",
            ["platform", "conversation_id", "kind", "id"],
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pending_kind", sqlite_where=PENDING, postgresql_where=PENDING)
        batch.create_index(
            "ix_outbox_pending",
            ["platform", "conversation_id", "id"],
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )

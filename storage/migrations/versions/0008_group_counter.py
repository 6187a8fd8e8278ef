"""group counter: referrals numbered per group, so that a reply after the consultation finds them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "name"),
    )
    # A group's next referral continues after the highest number it has used in any
    # consultation, so that no new number repeats an old one.
    op.execute(
        """
        INSERT INTO group_counter (group_id, name, value)
        SELECT consultation.group_id, 'referral', MAX(referral.number)
        FROM referral JOIN consultation ON consultation.id = referral.consultation_id
        GROUP BY consultation.group_id
        """
    )


def downgrade() -> None:
    op.drop_table("group_counter")

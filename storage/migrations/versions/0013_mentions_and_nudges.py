"""mentions and nudges: a guest's own member record, hidden poll results, reminders of non-voters

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guest_attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_guest_attendance_person_id_member", "member", ["person_id"], ["id"]
        )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hide_results", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("nudged_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.alter_column("hide_results", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_column("nudged_at")
        batch_op.drop_column("hide_results")
    with op.batch_alter_table("guest_attendance", schema=None) as batch_op:
        batch_op.drop_constraint("fk_guest_attendance_person_id_member", type_="foreignkey")
        batch_op.drop_column("person_id")

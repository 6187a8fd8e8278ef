"""units and policy: groups attached to CPPCC units, leaders' 签批 and documents issued

The tree of units lives in config; the database keeps only which group a secretary
attached to which unit (/本群 单位), and the follow-up of consultations that counts in the
province's year table: leaders' written instructions (签批) and the documents issued (发文).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("attached_by", sa.Integer(), nullable=False),
        sa.Column("attached_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attached_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id"),
    )
    op.create_table(
        "leader_signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leader_signoff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leader_signoff_consultation_id"), ["consultation_id"], unique=False
        )
    op.create_table(
        "policy_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "issuer",
            sa.Enum(
                "party",
                "party_office",
                "gov",
                "gov_office",
                "department",
                name="documentissuer",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("doc_number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "title"),
    )


def downgrade() -> None:
    op.drop_table("policy_document")
    with op.batch_alter_table("leader_signoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leader_signoff_consultation_id"))
    op.drop_table("leader_signoff")
    op.drop_table("group_unit")

"""files in the chat: workbooks made for a group, media ids platforms gave, voice marked

`chat_file` keeps a file made on request (the /统计 workbook) so the outbox can post it by
name; `platform_media` remembers the media id a platform gave for an uploaded document, so a
retry or a restart between upload and send posts it without uploading again. An inbound
event whose text is a platform's transcript of a voice message says so in `voice`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "platform_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("file_key", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=256), nullable=False),
        sa.Column("uploaded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "file_key"),
    )
    with op.batch_alter_table("inbound_event") as batch:
        batch.add_column(
            sa.Column("voice", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_event") as batch:
        batch.drop_column("voice")
    op.drop_table("platform_media")
    op.drop_table("chat_file")

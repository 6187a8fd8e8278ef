"""cards and routes: cards named by key, outbox rows that carry typed routes and card keys

Cards were a poll's only (`poll_card.poll_id`); they are now any feature's, named by a key
(`poll:12`) in `shown_card`. Outbox rows of kind `poll` and `poll_tally` become `card` and
`card_update` and name their card as `card`; every pending row's and open minutes request's
platform-specific reply context (a DingTalk sessionWebhook, a WeCom req_id or response_url)
becomes the route all platforms share: an address, when it expires, and the member a single
chat is with.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = {"poll": "card", "poll_tally": "card_update"}
SINGLE_CHAT = "1"  # DingTalk's conversationType of a single chat


def route_of(reply: object) -> dict[str, str] | None:
    """A stored reply context as a route (None when it said nothing)."""
    if not isinstance(reply, dict):
        return None
    address = str(reply.get("webhook") or reply.get("req_id") or reply.get("response_url") or "")
    if not address:
        return None
    route = {"address": address, "private_to": ""}
    expires_ms = reply.get("webhook_expires_ms")
    if isinstance(expires_ms, int) and expires_ms > 0:
        route["expires_at"] = datetime.fromtimestamp(expires_ms / 1000, UTC).isoformat()
    if str(reply.get("conversation_type")) == SINGLE_CHAT:
        route["private_to"] = str(reply.get("user") or "")
    return route


def payload_of(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A pending row's payload in the new form."""
    new: dict[str, Any] = {}
    route = route_of(payload.get("reply"))
    if route is not None:
        new["route"] = route
    if payload.get("mentions"):
        new["mentions"] = list(payload["mentions"])
    if isinstance(payload.get("ack"), dict):
        new["ack"] = payload["ack"]
    if kind in KINDS and payload.get("key"):
        new["card"] = str(payload["key"])  # already `poll:<id>`
    return new


def upgrade() -> None:
    op.create_table(
        "shown_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("card_key", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "card_id"),
    )
    with op.batch_alter_table("shown_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shown_card_card_key"), ["card_key"], unique=False)
    op.execute(
        """
        INSERT INTO shown_card
            (platform, card_id, card_key, conversation_id, created_at, delivered_at)
        SELECT platform, card_id, 'poll:' || poll_id, conversation_id, created_at, delivered_at
        FROM poll_card ORDER BY id
        """
    )
    with op.batch_alter_table("poll_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_card_poll_id"))
    op.drop_table("poll_card")

    connection = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("payload", sa.JSON()),
        sa.column("status", sa.String()),
    )
    pending = connection.execute(
        sa.select(outbox.c.id, outbox.c.kind, outbox.c.payload).where(outbox.c.status == "pending")
    ).all()
    for row in pending:
        payload = row.payload if isinstance(row.payload, dict) else {}
        connection.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(kind=KINDS.get(row.kind, row.kind), payload=payload_of(row.kind, payload))
        )
    requests = sa.table(
        "minutes_request",
        sa.column("id", sa.Integer()),
        sa.column("reply", sa.JSON()),
        sa.column("done_at", sa.DateTime()),
    )
    waiting = connection.execute(
        sa.select(requests.c.id, requests.c.reply).where(requests.c.done_at.is_(None))
    ).all()
    for row in waiting:
        connection.execute(
            requests.update().where(requests.c.id == row.id).values(reply=route_of(row.reply) or {})
        )


def downgrade() -> None:
    # Cards of other features than polls, and routes, have no older form: only poll cards
    # go back; pending rows keep their new form (the older code reads them as plain text).
    op.create_table(
        "poll_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "card_id"),
    )
    with op.batch_alter_table("poll_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_card_poll_id"), ["poll_id"], unique=False)
    with op.batch_alter_table("shown_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shown_card_card_key"))
    op.drop_table("shown_card")

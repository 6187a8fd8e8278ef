"""trust: a deadline is a local date, letters are kept as issued, console sessions on the server

A referral's deadline was stored as the moment it passed (the start of the day after the
last day to answer), which the console and the exports showed as "00:00 of the next day".
It becomes `due_on`, the last day itself, in the bot's time zone (the zone the app passes
to the upgrade; Asia/Shanghai if none).

Letters (报送函, 重办函) are now stored as issued. Each letter of an existing referral is
reserved here under the number it was posted with (〔年〕N号, N = the referral's id), with
its date and deadline; its text is rendered once by the bot at its next start (storage
cannot render documents). A referral reopened before this upgrade has lost its first
deadline: the one in force is reserved.

Console sign-ins move from the cookie alone to `console_session` rows (the cookie keeps a
random key, the row its hash), so signing out ends a session for every copy of the cookie.
Sessions in cookies from before end with the upgrade: everyone signs in once more.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

import storage.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _zone() -> ZoneInfo:
    return ZoneInfo(str(context.config.attributes.get("timezone") or "Asia/Shanghai"))


_referral = sa.table(
    "referral",
    sa.column("id", sa.Integer()),
    sa.column("deadline", storage.types.UTCDateTime(timezone=True)),
    sa.column("due_on", sa.Date()),
    sa.column("referred_at", storage.types.UTCDateTime(timezone=True)),
    sa.column("message_id", sa.String(128)),
)


def _deadline_to_date() -> None:
    zone = _zone()
    connection = op.get_bind()
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
    for row in connection.execute(sa.select(_referral.c.id, _referral.c.deadline)).all():
        # The deadline passed at local midnight after the last day: that day is the date.
        last_day = (row.deadline.astimezone(zone) - timedelta(microseconds=1)).date()
        connection.execute(
            _referral.update().where(_referral.c.id == row.id).values(due_on=last_day)
        )
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("due_on", existing_type=sa.Date(), nullable=False)
        batch.drop_index("ix_referral_deadline")
        batch.drop_column("deadline")
        batch.create_index("ix_referral_due_on", ["due_on"], unique=False)


def _letters() -> None:
    op.create_table(
        "referral_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("referral", "reopen", native_enum=False, length=16), nullable=False
        ),
        sa.Column("refers_to", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("docx", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["refers_to"], ["referral_letter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral_letter") as batch:
        batch.create_index("ix_referral_letter_referral_id", ["referral_id"], unique=False)
    letters = sa.table(
        "referral_letter",
        sa.column("id", sa.Integer()),
        sa.column("referral_id", sa.Integer()),
        sa.column("kind", sa.String(16)),
        sa.column("number", sa.String(40)),
        sa.column("issued_on", sa.Date()),
        sa.column("due_on", sa.Date()),
        sa.column("markdown", sa.Text()),
        sa.column("docx", sa.LargeBinary()),
        sa.column("issued_at", storage.types.UTCDateTime(timezone=True)),
        sa.column("message_id", sa.String(128)),
    )
    zone = _zone()
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _referral.c.id, _referral.c.due_on, _referral.c.referred_at, _referral.c.message_id
        ).order_by(_referral.c.id)
    ).all()
    for row in rows:
        issued_on = row.referred_at.astimezone(zone).date()
        connection.execute(
            letters.insert().values(
                id=row.id,
                referral_id=row.id,
                kind="referral",
                number=f"协商报送〔{issued_on.year}〕{row.id}号",
                issued_on=issued_on,
                due_on=row.due_on,
                markdown="",
                docx=b"",
                issued_at=row.referred_at,
                message_id=row.message_id,
            )
        )
    if rows and connection.dialect.name == "postgresql":
        # Ids were given above; the next letter must continue after them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('referral_letter', 'id'),"
            " (SELECT max(id) FROM referral_letter))"
        )


def _console_sessions() -> None:
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "role", sa.Enum("secretary", "leader", native_enum=False, length=16), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("stamp", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("console_session") as batch:
        batch.create_index("ix_console_session_expires_at", ["expires_at"], unique=False)
        batch.create_index("ix_console_session_user_id", ["user_id"], unique=False)


def upgrade() -> None:
    _deadline_to_date()
    _letters()
    _console_sessions()


def downgrade() -> None:
    op.drop_table("console_session")
    op.drop_table("referral_letter")
    zone = _zone()
    connection = op.get_bind()
    with op.batch_alter_table("referral") as batch:
        batch.add_column(
            sa.Column("deadline", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    for row in connection.execute(sa.select(_referral.c.id, _referral.c.due_on)).all():
        passes = datetime.combine(row.due_on + timedelta(days=1), time(0), tzinfo=zone)
        connection.execute(
            _referral.update()
            .where(_referral.c.id == row.id)
            .values(deadline=passes.astimezone(UTC))
        )
    with op.batch_alter_table("referral") as batch:
        batch.alter_column(
            "deadline", existing_type=storage.types.UTCDateTime(timezone=True), nullable=False
        )
        batch.drop_index("ix_referral_due_on")
        batch.drop_column("due_on")
        batch.create_index("ix_referral_deadline", ["deadline"], unique=False)

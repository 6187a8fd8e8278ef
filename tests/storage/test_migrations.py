"""The schema comes from Alembic and matches the models."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel

import storage.console_users
import storage.models
import storage.step_tables  # noqa: F401  (registers the tables of the seven steps)
from storage.engine import alembic_config, make_engine, upgrade_database
from storage.sequences import next_in_group


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        upgrade_database(engine)  # a second start changes nothing
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_the_migrations_form_one_line(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    engine.dispose()

    assert len(heads) == 1


def test_referral_numbers_continue_per_group_after_the_upgrade(database_url: str) -> None:
    # Before 0008 referrals were numbered per consultation: group 1 used #1-#2 in one
    # consultation and #1 in the next. Its next referral must not repeat any of them.
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, "0007")
        now = "2026-11-01 00:00:00+00:00"
        with engine.begin() as connection:
            run = connection.exec_driver_sql
            run(
                "INSERT INTO chat_group (id, platform, conversation_id, title, created_at)"
                f" VALUES (1, 'local', 'g1', '', '{now}'), (2, 'local', 'g2', '', '{now}')"
            )
            run(
                "INSERT INTO member (id, platform, user_id, name, created_at)"
                f" VALUES (1, 'local', 'u1', '秘书', '{now}')"
            )
            run(
                "INSERT INTO consultation (id, group_id, topic, stage, opened_by, opened_at,"
                " closed_at, opinion_seq, poll_seq) VALUES"
                f" (1, 1, 'a', 'refer', 1, '{now}', '{now}', 0, 0),"
                f" (2, 1, 'b', 'refer', 1, '{now}', NULL, 0, 0)"
            )
            for referral_id, consultation_id, number in ((1, 1, 1), (2, 1, 2), (3, 2, 1)):
                run(
                    "INSERT INTO referral (id, consultation_id, number, lead_department,"
                    " co_departments, deadline, deadline_set_at, referred_by, referred_at,"
                    f" message_id) VALUES ({referral_id}, {consultation_id}, {number}, '市民政局',"
                    f" '[]', '{now}', '{now}', 1, '{now}', 'm{referral_id}')"
                )
        upgrade_database(engine)
        with Session(engine) as session:
            numbers = [next_in_group(session, group_id=g, name="referral") for g in (1, 1, 2)]
    finally:
        engine.dispose()

    assert numbers == [3, 4, 1]


def test_pending_replies_and_poll_cards_keep_their_meaning_after_0010(database_url: str) -> None:
    # Before 0010 a reply carried its platform's own reply context and a poll card was a
    # poll's: the rows still waiting must reach the same place and card afterwards.
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, "0009")
        now = "2026-12-01 00:00:00+00:00"
        webhook = {
            "webhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s1",
            "webhook_expires_ms": 1796083200000,
            "conversation_type": "1",
            "user": "staff-7",
        }
        with engine.begin() as connection:
            run = connection.exec_driver_sql
            run(
                "INSERT INTO chat_group (id, platform, conversation_id, title, created_at)"
                f" VALUES (1, 'dingtalk', 'cid1', '', '{now}')"
            )
            run(
                "INSERT INTO member (id, platform, user_id, name, created_at)"
                f" VALUES (1, 'dingtalk', 'staff-7', '主持人', '{now}')"
            )
            run(
                "INSERT INTO consultation (id, group_id, topic, stage, opened_by, opened_at,"
                f" opinion_seq, poll_seq) VALUES (1, 1, 'a', 'consult', 1, '{now}', 0, 1)"
            )
            run(
                "INSERT INTO poll (id, consultation_id, number, question, options, multiple,"
                " anonymous, status, opened_by, opened_at) VALUES"
                f" (1, 1, 1, '?', '[\"甲\", \"乙\"]', false, false, 'open', 1, '{now}')"
            )
            run(
                "INSERT INTO poll_card (id, platform, card_id, poll_id, conversation_id,"
                f" created_at, delivered_at) VALUES (1, 'dingtalk', 'xs-1', 1, 'cid1', '{now}',"
                f" '{now}')"
            )
            for row_id, kind, payload in (
                (1, "text", {"reply": webhook, "mentions": ["staff-7"]}),
                (2, "poll", {"key": "poll:1", "poll_id": 1, "reply": {"req_id": "r-9"}}),
                (3, "poll_tally", {"key": "poll:1", "poll_id": 1}),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO outbox (id, platform, conversation_id, kind, body, payload,"
                        " status, created_at, not_before, attempts, last_error) VALUES"
                        " (:id, 'dingtalk', 'cid1', :kind, '', :payload, 'pending', :now, :now,"
                        " 0, '')"
                    ),
                    {"id": row_id, "kind": kind, "payload": json.dumps(payload), "now": now},
                )
        upgrade_database(engine)
        with engine.connect() as connection:
            cards = connection.exec_driver_sql(
                "SELECT platform, card_id, card_key, conversation_id FROM shown_card"
            ).all()
            rows = connection.exec_driver_sql("SELECT kind, payload FROM outbox ORDER BY id").all()
    finally:
        engine.dispose()

    assert [tuple(card) for card in cards] == [("dingtalk", "xs-1", "poll:1", "cid1")]
    assert [(kind, as_json(payload)) for kind, payload in rows] == [
        (
            "text",
            {
                "route": {
                    "address": webhook["webhook"],
                    "private_to": "staff-7",
                    "expires_at": "2026-12-01T00:00:00+00:00",
                },
                "mentions": ["staff-7"],
            },
        ),
        ("card", {"route": {"address": "r-9", "private_to": ""}, "card": "poll:1"}),
        ("card_update", {"card": "poll:1"}),
    ]


def as_json(value: object) -> object:
    """A JSON column as read back (SQLite returns text, PostgreSQL the object)."""
    return json.loads(value) if isinstance(value, str) else value

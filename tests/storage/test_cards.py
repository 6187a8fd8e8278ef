"""Poll cards: a card is chosen once per poll and group, and found again from a click."""

from __future__ import annotations

from functools import partial

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.runtime.app import App
from storage.cards import card_for_poll, delivered_cards, find_carded_poll, mark_card_delivered
from tests.support import MODERATOR, Group


async def test_a_retried_card_keeps_its_id_and_a_click_finds_its_poll(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 夜市延长到23点？| 支持 | 反对")
    [(poll_id,)] = group.rows("SELECT id FROM poll")
    now = group.clock.now()
    choose = partial(
        card_for_poll, platform="dingtalk", poll_id=poll_id, conversation_id="cid1", now=now
    )
    database = group.app.database

    first = await database.run(partial(choose, new_card_id="card-a"))
    retried = await database.run(partial(choose, new_card_id="card-b"))
    before = await database.run(partial(delivered_cards, platform="dingtalk", poll_id=poll_id))
    await database.run(partial(mark_card_delivered, platform="dingtalk", card_id=first, now=now))
    after = await database.run(partial(delivered_cards, platform="dingtalk", poll_id=poll_id))
    carded = await database.run(partial(find_carded_poll, platform="dingtalk", card_id="card-a"))
    unknown = await database.run(partial(find_carded_poll, platform="dingtalk", card_id="card-b"))

    assert (first, retried) == ("card-a", "card-a")
    assert (before, after) == ([], ["card-a"])
    assert carded is not None
    assert (carded.poll_number, carded.conversation_id, carded.options) == (
        1,
        "cid1",
        ("支持", "反对"),
    )
    assert unknown is None


def test_the_migrations_build_exactly_the_tables_the_models_declare(app: App) -> None:
    with app.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    assert differences == []

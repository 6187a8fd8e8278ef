"""Cards: a card is chosen once per card key and group, and found again from a click."""

from __future__ import annotations

from functools import partial

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.runtime.app import App
from storage.cards import card_for_key, delivered_cards, find_card, mark_card_delivered
from tests.support import MODERATOR, Group


async def test_a_retried_card_keeps_its_id_and_a_click_finds_its_poll(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 夜市延长到23点？| 支持 | 反对")
    [(poll_id,)] = group.rows("SELECT id FROM poll")
    key = f"poll:{poll_id}"
    now = group.clock.now()
    choose = partial(
        card_for_key, platform="dingtalk", card_key=key, conversation_id="cid1", now=now
    )
    database = group.app.database

    first = await database.run(partial(choose, new_card_id="card-a"))
    retried = await database.run(partial(choose, new_card_id="card-b"))
    before = await database.run(partial(delivered_cards, platform="dingtalk", card_key=key))
    await database.run(partial(mark_card_delivered, platform="dingtalk", card_id=first, now=now))
    after = await database.run(partial(delivered_cards, platform="dingtalk", card_key=key))
    carded = await database.run(partial(find_card, platform="dingtalk", card_id="card-a"))
    unknown = await database.run(partial(find_card, platform="dingtalk", card_id="card-b"))

    assert (first, retried) == ("card-a", "card-a")
    assert (before, after) == ([], ["card-a"])
    assert carded is not None
    assert (carded.card_key, carded.conversation_id) == (key, "cid1")
    assert unknown is None


def test_the_migrations_build_exactly_the_tables_the_models_declare(app: App) -> None:
    with app.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    assert differences == []

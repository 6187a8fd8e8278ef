"""Sentence vectors in the background: each statement gets one, once, and the minutes then
use them. (The one test here that loads the model: it takes a second or two.)"""

from __future__ import annotations

import pytest

from bot.core.clock import ManualClock
from bot.runtime.app import App
from minutes import E5Embedder
from storage.enums import Role
from tests.conftest import make_settings
from tests.minutes.support import NIGHT_MARKET
from tests.support import RecordingSender, hold_night_market, night_market_minutes


async def test_statements_get_vectors_once_and_the_minutes_use_them(
    database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    settings = make_settings(database_url, minutes={"vectors": {"enabled": True, "batch_size": 8}})
    app = App(settings, clock=clock, adapters=[sender], secret=b"k", serve_web=False)
    await app.start()
    try:
        group = await hold_night_market(app, clock, sender)

        await app.minutes.embed_pending()
        again = await app.minutes.embed_pending()
        await group.say("秘书", "/纪要", role=Role.SECRETARY)
        await app.minutes.drain()
    finally:
        await app.stop()

    assert again == 0
    assert group.rows(
        "SELECT count(*), count(DISTINCT opinion_id), min(model), min(length(vector))"
        " FROM statement_vector"
    ) == [(len(NIGHT_MARKET), len(NIGHT_MARKET), E5Embedder.name, 4 * E5Embedder.dim)]
    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "e5")]


async def test_minutes_come_on_words_alone_when_the_model_cannot_load(
    database_url: str, clock: ManualClock, sender: RecordingSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unloadable:
        def __init__(self, threads: int) -> None:
            raise OSError("model file missing")

    monkeypatch.setattr("workers.minutes_worker.E5Embedder", Unloadable)
    settings = make_settings(database_url, minutes={"vectors": {"enabled": True}})
    group, seen = await night_market_minutes(settings, clock, sender)

    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "tfidf")]
    assert any("（纪要第 1 版）" in body for body in seen)

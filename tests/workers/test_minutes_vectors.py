"""Sentence vectors in the background: each statement gets one, once, and the minutes then
use them; when they cannot, the minutes come on words alone and say why. (The bundled
model is loaded once for the run: `bundled_model`.)"""

from __future__ import annotations

import io
import json

import docx
import pytest

from bot.core.clock import ManualClock
from bot.runtime.app import App
from minutes import E5Embedder
from storage.enums import Role
from tests.conftest import make_settings
from tests.minutes.support import NIGHT_MARKET
from tests.support import Group, RecordingSender, hold_night_market, night_market_minutes

WORDS_ONLY = "本版纪要未使用语义向量"


def stored_version(group: Group) -> tuple[str, dict[str, object], list[str]]:
    """The one stored version: its Markdown, its JSON and the paragraphs of its DOCX."""
    [(markdown, body, data)] = group.rows("SELECT markdown, body, docx FROM minutes_version")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(bytes(data))).paragraphs]
    return markdown, json.loads(body), paragraphs


async def test_statements_get_vectors_once_and_the_minutes_use_them(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender, bundled_model: E5Embedder
) -> None:
    settings = make_settings(
        ready_database_url, minutes={"vectors": {"enabled": True, "batch_size": 8}}
    )
    app = App(settings, clock=clock, adapters=[sender], secret=b"k", serve_web=False)
    await app.start()
    try:
        group = await hold_night_market(app, clock, sender)

        await app.minutes.embed_pending()
        again = await app.minutes.embed_pending()
        await group.say("秘书", "/纪要", role=Role.SECRETARY)
        await app.minutes.drain()
        seen = await group.group_sees()
    finally:
        await app.stop()

    assert again == 0
    assert group.rows(
        "SELECT count(*), count(DISTINCT opinion_id), min(model), min(length(vector))"
        " FROM statement_vector"
    ) == [(len(NIGHT_MARKET), len(NIGHT_MARKET), E5Embedder.name, 4 * E5Embedder.dim)]
    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "e5")]
    markdown, body, paragraphs = stored_version(group)
    assert body["method"] == {"vectors": E5Embedder.name, "fallback": None}
    assert WORDS_ONLY not in markdown
    assert not any(WORDS_ONLY in text for text in paragraphs)
    assert not any(WORDS_ONLY in text for text in seen)


async def test_minutes_asked_right_after_the_discussion_use_every_statements_vector(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender, bundled_model: E5Embedder
) -> None:
    settings = make_settings(ready_database_url, minutes={"vectors": {"enabled": True}})
    group, seen = await night_market_minutes(settings, clock, sender)

    assert group.count("statement_vector") == len(NIGHT_MARKET)
    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "e5")]
    assert stored_version(group)[1]["method"] == {"vectors": E5Embedder.name, "fallback": None}
    assert any("（纪要第 1 版）" in body for body in seen)


async def test_minutes_come_on_words_alone_when_the_model_cannot_load_and_say_so(
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Unloadable:
        def __init__(self, threads: int) -> None:
            raise OSError("model file missing")

    monkeypatch.setattr("workers.vectors.E5Embedder", Unloadable)
    settings = make_settings(ready_database_url, minutes={"vectors": {"enabled": True}})
    group, seen = await night_market_minutes(settings, clock, sender)

    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "tfidf")]
    markdown, body, paragraphs = stored_version(group)
    assert body["method"] == {"vectors": None, "fallback": "语义模型无法加载"}
    note = f"{WORDS_ONLY}（语义模型无法加载）"
    assert note in markdown
    assert any(note in text for text in paragraphs)
    [posted] = [text for text in seen if "（纪要第 1 版）" in text]
    assert note in posted


async def test_minutes_with_vectors_turned_off_say_they_used_words_alone(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    group, seen = await night_market_minutes(make_settings(ready_database_url), clock, sender)

    assert group.count("statement_vector") == 0
    markdown, body, paragraphs = stored_version(group)
    assert body["method"] == {"vectors": None, "fallback": "语义向量功能未启用"}
    note = f"{WORDS_ONLY}（语义向量功能未启用）"
    assert note in markdown
    assert any(note in text for text in paragraphs)
    assert any(note in text for text in seen)

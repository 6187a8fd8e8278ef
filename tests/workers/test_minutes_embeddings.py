"""The optional embeddings endpoint, against a fake OpenAI-compatible server on 127.0.0.1:
its vectors are stored under its model's name and used by the minutes; when it fails,
nothing is stored, the minutes use words alone, and it is asked again only later."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from bot.core.clock import ManualClock
from bot.runtime.app import App
from minutes import vector_from_bytes
from storage.enums import Role
from tests.conftest import make_settings
from tests.fakes.openai import serve
from tests.minutes.support import NIGHT_MARKET
from tests.support import MODERATOR, Group, RecordingSender, hold_night_market
from workers.embeddings import EmbeddingsFailed, unit_rows
from workers.minutes_worker import BUSY_MESSAGES_PER_SECOND

KEY = "sk-embed-test-0123456789abcdef"
DIM = 48
NAN = float("nan")  # Python's json reads NaN; a sloppy server may send it


def fake_vector(text: str) -> list[float]:
    """Characters hashed into DIM buckets: texts sharing words get close vectors."""
    vector = [0.0] * DIM
    for char in text:
        vector[hashlib.sha1(char.encode()).digest()[0] % DIM] += 1.0
    return vector


@dataclass
class FakeEmbeddings:
    """An OpenAI-compatible /embeddings that answers in shuffled order, or fails."""

    failing: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    url: str = ""

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(request.headers.get("Authorization", ""))
        if self.failing:
            return web.Response(status=503, text="overloaded")
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text)}
            for i, text in enumerate(body["input"])
        ]
        return web.json_response({"object": "list", "data": data[::-1], "model": body["model"]})


@pytest.fixture
async def endpoint() -> AsyncIterator[FakeEmbeddings]:
    fake = FakeEmbeddings()
    async with serve("embeddings", fake.embeddings) as fake.url:
        yield fake


@pytest.fixture
async def app(
    endpoint: FakeEmbeddings,
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[App]:
    monkeypatch.setenv("XIESHANG_EMBEDDINGS_API_KEY", KEY)
    vectors = {"base_url": endpoint.url, "model": "fake-embed", "batch_size": 5}
    settings = make_settings(ready_database_url, minutes={"vectors": vectors})
    bot = App(settings, clock=clock, adapters=[sender], secret=b"k", serve_web=False)
    await bot.start()
    yield bot
    await bot.stop()


async def test_the_endpoints_vectors_are_stored_once_and_the_minutes_use_them(
    app: App,
    endpoint: FakeEmbeddings,
    clock: ManualClock,
    sender: RecordingSender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    group = await hold_night_market(app, clock, sender)

    # The background loop may have begun on its own after the messages' commits.
    await app.minutes.embed_pending()
    again = await app.minutes.embed_pending()
    await group.say("秘书", "/纪要", role=Role.SECRETARY)
    await app.minutes.drain()

    assert again == 0
    asked = [text for request in endpoint.requests for text in request["input"]]
    assert len(asked) == len(set(asked)) == len(NIGHT_MARKET)  # each statement asked once
    assert all(header == f"Bearer {KEY}" for header in endpoint.headers)
    assert {r["model"] for r in endpoint.requests} == {"fake-embed"}
    assert max(len(r["input"]) for r in endpoint.requests) <= 5  # batch_size
    rows = group.rows(
        "SELECT o.text, v.model, v.vector FROM statement_vector v"
        " JOIN opinion o ON o.id = v.opinion_id ORDER BY o.number"
    )
    assert len(rows) == len(NIGHT_MARKET)
    for text, model, vector in rows:  # each text got its own vector, whatever the order
        expected = np.asarray(fake_vector(text))
        assert model == "openai-compatible/fake-embed"
        assert np.allclose(vector_from_bytes(vector), expected / np.linalg.norm(expected))
    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "embeddings")]
    [(body,)] = group.rows("SELECT body FROM minutes_version")
    assert json.loads(body)["method"] == {
        "vectors": "openai-compatible/fake-embed",
        "fallback": None,
    }
    assert KEY not in caplog.text


async def look_busy(app: App, clock: ManualClock, sender: RecordingSender) -> None:
    """A burst in another group: more messages than a busy second holds, delivered at once
    (one batch, one commit). The clock stands still in these tests, so the second lasts
    until the test moves it."""
    burst = Group(app, clock, sender, conversation="投票群")
    await burst.deliver(
        [burst.message(f"委员{n}", "收到") for n in range(BUSY_MESSAGES_PER_SECOND + 1)]
    )
    # The background loop, woken by a commit before the whole burst was in, may still be
    # looking for statements: let it finish, or it would find the next ones.
    await app.minutes.drain()


async def test_vectors_wait_while_the_dispatcher_is_busy(
    app: App, endpoint: FakeEmbeddings, clock: ManualClock, sender: RecordingSender
) -> None:
    await look_busy(app, clock, sender)
    assert app.minutes.busy()  # one commit, but many messages
    group = await hold_night_market(app, clock, sender)

    assert await app.minutes.embed_pending(unless_busy=True) == 0
    assert group.count("statement_vector") == 0
    assert endpoint.requests == []

    clock.advance(timedelta(seconds=2))
    await app.minutes.embed_pending(unless_busy=True)  # (or the loop, if it came first)
    assert group.count("statement_vector") == len(NIGHT_MARKET)


async def test_minutes_asked_while_busy_embed_their_own_statements_first(
    app: App, endpoint: FakeEmbeddings, clock: ManualClock, sender: RecordingSender
) -> None:
    await look_busy(app, clock, sender)
    group = await hold_night_market(app, clock, sender)
    other = Group(app, clock, sender, conversation="另一个群")
    await other.say(MODERATOR, "/协商 开始 社区食堂")
    await other.say("张三", "/意见 食堂要照顾老人口味")

    await group.say("秘书", "/纪要", role=Role.SECRETARY)
    await app.minutes.drain()

    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "embeddings")]
    # Only that consultation's statements: the other group's wait for a quiet moment.
    assert group.count("statement_vector") == len(NIGHT_MARKET)


async def test_a_failing_endpoint_leaves_words_alone_and_is_asked_again_only_later(
    app: App,
    endpoint: FakeEmbeddings,
    clock: ManualClock,
    sender: RecordingSender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint.failing = True
    group = await hold_night_market(app, clock, sender)

    assert await app.minutes.embed_pending() == 0
    assert len(endpoint.requests) == 2  # a 503 is tried once more, then it rests
    await group.say("秘书", "/纪要", role=Role.SECRETARY)
    await app.minutes.drain()
    assert group.rows("SELECT number, method FROM minutes_version") == [(1, "tfidf")]
    [(markdown, body)] = group.rows("SELECT markdown, body FROM minutes_version")
    assert "本版纪要未使用语义向量（向量服务暂时无法访问）" in markdown
    assert json.loads(body)["method"] == {"vectors": None, "fallback": "向量服务暂时无法访问"}
    assert group.count("statement_vector") == 0
    assert "sentence vectors wait for the endpoint: HTTP 503" in caplog.text
    assert KEY not in caplog.text

    endpoint.failing = False
    assert await app.minutes.embed_pending() == 0  # resting: not asked again at once
    assert len(endpoint.requests) == 2
    clock.advance(timedelta(seconds=app.settings.minutes.vectors.interval_seconds))
    # The rest is over: the next look stores every vector. The background task, woken by
    # the commits above, may be the one that looks first, so count the rows, not the call.
    await app.minutes.embed_pending()
    assert len(endpoint.requests) > 2
    assert group.count("statement_vector") == len(NIGHT_MARKET)


@pytest.mark.parametrize(
    "answer",
    [
        {"error": "no data"},
        {"data": [{"index": 0, "embedding": [1.0, 0.0]}]},  # one vector for two texts
        {"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 0, "embedding": [0.0, 1.0]}]},
        {"data": [{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [0.0, 1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0, "x"]}, {"index": 1, "embedding": [0.0, 1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0, 2.0]}, {"index": 1, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": [NAN, 0.0]}, {"index": 1, "embedding": [0.0, 1.0]}]},
    ],
)
def test_an_unusable_answer_gives_no_vectors(answer: Any) -> None:
    with pytest.raises(EmbeddingsFailed):
        unit_rows(answer, 2)


def test_a_usable_answer_gives_unit_rows_in_input_order() -> None:
    answer = {
        "data": [{"index": 1, "embedding": [0.0, 2.0]}, {"index": 0, "embedding": [3e38, 4e38]}]
    }

    rows = unit_rows(answer, 2)

    assert rows.dtype == np.float32
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 1.0]])

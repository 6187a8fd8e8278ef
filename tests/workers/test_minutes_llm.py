"""The optional language model, against a fake OpenAI-compatible server on 127.0.0.1: its
titles are taken when fit, and any failure leaves the offline minutes standing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.core.clock import ManualClock
from bot.core.settings import LLMSettings
from minutes import ConsultationInfo, Minutes, summarize
from tests.conftest import make_settings
from tests.fakes.openai import serve
from tests.minutes.support import NIGHT_MARKET, all_quotes, make_statements
from tests.support import RecordingSender, night_market_minutes
from workers.minutes_service import polish_minutes

KEY = "sk-test-0123456789abcdef"
TITLES = {"0": "夜市延时与噪音管理", "1": "摊位与交通秩序"}


@dataclass
class FakeModel:
    """An OpenAI-compatible /chat/completions that answers as told and records requests."""

    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def chat(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(request.headers.get("Authorization", ""))
        if self.mode == "error":
            return web.Response(status=500, text="upstream exploded")
        if self.mode == "slow":
            await self.release.wait()  # longer than the client's timeout: no sleep needed
        content = "这不是 JSON" if self.mode == "garbage" else json.dumps({"titles": TITLES})
        return web.json_response({"choices": [{"message": {"content": content}}]})


@pytest.fixture
async def model() -> AsyncIterator[FakeModel]:
    fake = FakeModel()
    async with serve("chat/completions", fake.chat) as fake.url:
        yield fake
        fake.release.set()  # a slow answer still waiting ends before the server stops


@pytest.fixture
def offline() -> Minutes:
    info = ConsultationInfo(id=7, topic="夜市延长营业时间", group_name="夜市协商群")
    return summarize(info, make_statements(NIGHT_MARKET))


def llm(model: FakeModel, **changes: Any) -> LLMSettings:
    return LLMSettings(base_url=model.url, model="fake-model", **changes)


async def test_the_models_titles_are_taken_and_quotes_stay_untouched(
    model: FakeModel, offline: Minutes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    polished = await polish_minutes(offline, llm(model), api_key=KEY)

    assert [t.title for t in polished.themes[:2]] == list(TITLES.values())
    assert polished.polished
    assert list(all_quotes(polished)) == list(all_quotes(offline))
    assert model.headers == [f"Bearer {KEY}"]
    assert model.requests[0]["model"] == "fake-model"
    assert "夜市延长营业时间" in model.requests[0]["messages"][-1]["content"]
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("mode", "attempts", "calls"), [("error", 2, 2), ("garbage", 2, 1), ("slow", 1, 1)]
)
async def test_on_failure_the_offline_minutes_stand_and_the_key_is_not_logged(
    model: FakeModel,
    offline: Minutes,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    attempts: int,
    calls: int,
) -> None:
    model.mode = mode
    caplog.set_level(logging.DEBUG)

    result = await polish_minutes(
        offline, llm(model, attempts=attempts, timeout_seconds=0.3), api_key=KEY
    )

    assert result == offline
    assert len(model.requests) == calls  # a 500 is tried again, garbage is not
    assert "minutes polish skipped" in caplog.text
    assert KEY not in caplog.text


async def test_no_model_configured_means_no_request(model: FakeModel, offline: Minutes) -> None:
    result = await polish_minutes(offline, LLMSettings(), api_key=KEY)

    assert result == offline
    assert model.requests == []


async def test_minutes_from_the_group_carry_the_models_titles(
    model: FakeModel,
    sqlite_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("XIESHANG_LLM_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        sqlite_url,
        minutes={"vectors": {"enabled": False}, "llm": {"base_url": model.url, "model": "m"}},
    )
    _, seen = await night_market_minutes(settings, clock, sender)

    assert TITLES["0"] in seen[-2]  # the Markdown, before its Word file's link
    assert model.headers == [f"Bearer {KEY}"]
    assert KEY not in caplog.text

"""The local web chat: tabs post messages over HTTP and see the bot over a websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.adapters.local.adapter import markdown_html
from bot.core.clock import ManualClock
from bot.core.settings import WebSettings
from bot.runtime.app import App
from tests.conftest import make_settings

ROOM = "本地协商群"


@pytest.fixture
async def chat(sqlite_url: str, clock: ManualClock) -> AsyncIterator[str]:
    """The bot with its web chat on a free port; yields the base URL."""
    settings = make_settings(sqlite_url, web=WebSettings(port=0))
    app = App(settings, clock=clock, secret=b"k", fire_jobs=False)
    await app.start()
    try:
        yield f"http://127.0.0.1:{app.web_port}"
    finally:
        await app.stop()


async def post(
    session: aiohttp.ClientSession, base: str, **fields: str
) -> tuple[int, dict[str, str]]:
    body = {"conversation": ROOM, "sender_id": "local-张三", "sender_name": "张三", **fields}
    async with session.post(f"{base}/api/local/messages", json=body) as response:
        return response.status, await response.json()


async def next_bot_line(socket: aiohttp.ClientWebSocketResponse) -> dict[str, object]:
    async with asyncio.timeout(10):
        while True:
            event = json.loads(await socket.receive_str())
            if event["bot"]:
                return event


async def test_the_page_is_served(chat: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(chat + "/") as response:
        page = await response.text()

    assert response.status == 200
    assert "<title>协商助手 · 本地群聊</title>" in page


async def test_a_moderator_tab_opens_a_consultation_and_every_tab_sees_it(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        watcher = await session.ws_connect(f"{chat}/api/local/ws?conversation={ROOM}")
        status, answer = await post(
            session, chat, role="moderator", text="@协商助手 /协商 开始 夜市", id="tab1-1"
        )
        line = await next_bot_line(watcher)
        async with session.get(f"{chat}/api/local/history", params={"conversation": ROOM}) as r:
            history = await r.json()
        await watcher.close()

    assert (status, answer) == (200, {"status": "ok"})
    assert str(line["text"]).startswith("协商开始：「夜市」")
    assert [e["sender"] for e in history] == ["张三", "协商助手"]


async def test_a_retried_post_is_kept_once(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        await post(session, chat, role="moderator", text="/协商 开始 夜市", id="a")
        first = await post(session, chat, text="/意见 路灯太暗", id="same-id")
        again = await post(session, chat, text="/意见 路灯太暗", id="same-id")

    assert first == (200, {"status": "ok"})
    assert again == (200, {"status": "duplicate"})


async def test_a_member_tab_cannot_act_as_moderator(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        status, answer = await post(session, chat, role="member", text="/协商 开始 夜市", id="b")

    assert (status, answer) == (200, {"status": "refused"})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"conversation": ROOM, "sender_id": "x"}, "请填写群名、姓名和消息。"),
        (
            {"conversation": ROOM, "sender_id": "x", "text": "长" * 5001},
            "消息过长（最多 5000 字）。",
        ),
        ({"conversation": ROOM, "sender_id": "x" * 65, "text": "hi"}, "姓名过长（最多 64 字）。"),
        (["not", "an", "object"], "请求格式不对。"),
    ],
)
async def test_bad_posts_get_a_chinese_error(chat: str, body: object, expected: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{chat}/api/local/messages", json=body) as response,
    ):
        answer = await response.json()

    assert response.status == 400
    assert answer["error"] == expected


async def test_metrics_and_health_are_served(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        await post(session, chat, role="moderator", text="/协商 开始 夜市", id="m1")
        await post(session, chat, text="/投 1", id="m2")
        async with session.get(f"{chat}/metrics") as response:
            metrics = await response.text()
        async with session.get(f"{chat}/healthz") as response:
            health = await response.json()

    assert 'xieshang_messages_total{outcome="ok",platform="local"} 1.0' in metrics
    assert 'xieshang_commands_total{command="投",status="refused"} 1.0' in metrics
    assert 'xieshang_commands_total{command="协商 开始",status="ok"} 1.0' in metrics
    assert "xieshang_dispatch_seconds_bucket" in metrics
    assert health["status"] == "ok"
    assert health["database"] == "ok"
    assert health["platforms"] == ["local"]


FOREIGN = [
    ({"Origin": "http://evil.example"}, "application/json", 403, "这个请求来自其他网站"),
    ({"Host": "evil.example"}, "application/json", 403, "请求的地址（Host）不是本地群聊的地址"),
    ({"Host": "evil.example", "Origin": "http://evil.example"}, "application/json", 403, "Host"),
    ({}, "text/plain", 415, "消息须以 JSON（application/json）发送"),
    ({}, "application/x-www-form-urlencoded", 415, "application/json"),
]


@pytest.mark.parametrize(("headers", "content_type", "status", "error"), FOREIGN)
async def test_another_site_cannot_post_in_the_chat(
    chat: str, headers: dict[str, str], content_type: str, status: int, error: str
) -> None:
    body = {"conversation": ROOM, "sender_id": "x", "role": "moderator", "text": "/协商 开始 t"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{chat}/api/local/messages",
            data=json.dumps(body),
            headers={"Content-Type": content_type, **headers},
        ) as response:
            answer = (response.status, await response.json())
        async with session.get(f"{chat}/api/local/history", params={"conversation": ROOM}) as r:
            history = await r.json()

    assert answer[0] == status
    assert error in answer[1]["error"]
    assert history == []  # nothing was said, nothing was opened


async def test_another_site_cannot_read_the_chat(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                f"{chat}/api/local/ws?conversation={ROOM}",
                headers={"Origin": "http://evil.example"},
            )
        async with session.get(
            f"{chat}/api/local/history",
            params={"conversation": ROOM},
            headers={"Host": "rebound.example"},
        ) as response:
            history = response.status

    assert refused.value.status == 403
    assert history == 403


async def test_the_page_itself_may_post(chat: str) -> None:
    async with aiohttp.ClientSession() as session:
        status, answer = await post(session, chat, text="/帮助", id="own")
        async with session.post(
            f"{chat}/api/local/messages",
            json={"conversation": ROOM, "sender_id": "x", "text": "/帮助", "id": "same-origin"},
            headers={"Origin": chat},
        ) as response:
            same_origin = response.status

    assert (status, answer) == (200, {"status": "ok"})
    assert same_origin == 200


async def test_the_history_outlives_a_restart(sqlite_url: str, clock: ManualClock) -> None:
    settings = make_settings(sqlite_url, web=WebSettings(port=0))
    first = App(settings, clock=clock, secret=b"k", fire_jobs=False)
    await first.start()
    base = f"http://127.0.0.1:{first.web_port}"
    async with aiohttp.ClientSession() as session:
        watcher = await session.ws_connect(f"{base}/api/local/ws?conversation={ROOM}")
        await post(session, base, role="moderator", text="/协商 开始 夜市", id="h1")
        await next_bot_line(watcher)
        clock.advance(timedelta(seconds=5))
        await post(session, base, text="投 1", id="h2")  # no slash: the chat is addressed
        await watcher.close()
    await first.stop()

    again = App(settings, clock=clock, secret=b"k", fire_jobs=False)
    await again.start()
    base = f"http://127.0.0.1:{again.web_port}"
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/api/local/history", params={"conversation": ROOM}) as r,
        ):
            history = await r.json()
    finally:
        await again.stop()

    assert [(e["sender"], e["text"].splitlines()[0]) for e in history[:3]] == [
        ("张三", "/协商 开始 夜市"),
        ("协商助手", "协商开始：「夜市」"),
        ("张三", "投 1"),
    ]
    assert [e["id"][:3] for e in history[:2]] == ["in:", "out"]


def test_the_bots_markdown_is_shown_formatted_and_html_in_it_stays_text() -> None:
    html = markdown_html("### 会议纪要\n\n**主要意见**\n\n> “<b>粗</b>”——冯二 #10")

    assert "<h3>会议纪要</h3>" in html
    assert "<strong>主要意见</strong>" in html
    assert "<blockquote>" in html
    assert "&lt;b&gt;粗&lt;/b&gt;" in html


async def test_json_nested_beyond_reason_is_a_bad_request_not_a_crash(chat: str) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{chat}/api/local/messages",
            data=nested,
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        answer = (response.status, await response.json())

    assert answer == (400, {"error": "请求格式不对。"})

"""The secretary console under test: a bot with its web server, two users from config, and
a browser-like client that keeps cookies and never follows redirects."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest

from bot.core.clock import ManualClock
from bot.core.settings import ConsoleSettings, ConsoleUserEntry, Settings, WebSettings
from bot.runtime.app import App
from storage.enums import Role
from tests.conftest import make_settings
from tests.support import MODERATOR, Group, RecordingSender

SECRETARY_TOKEN = "secretary-token-for-tests-0123456789"
LEADER_TOKEN = "leader-token-for-tests-0123456789"
WANG, LI = "XIESHANG_CONSOLE_TOKEN_WANG", "XIESHANG_CONSOLE_TOKEN_LI"


@dataclass
class Console:
    """The running bot, its group, and the console's address."""

    app: App
    group: Group
    base: str


def console_settings(url: str, **overrides: object) -> Settings:
    """A bot serving its web pages on a free port, with 王秘书 (secretary) and 李主任
    (leader) from config; their tokens must be in the environment (`users_in_environment`)."""
    overrides.setdefault("web", WebSettings(port=0))
    overrides.setdefault(
        "console",
        ConsoleSettings(
            users=[
                ConsoleUserEntry(name="王秘书", role="secretary", token_env=WANG),
                ConsoleUserEntry(name="李主任", role="leader", token_env=LI),
            ],
            sign_in_failures_per_minute=3,
        ),
    )
    return make_settings(url, **overrides)


def users_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tokens of 王秘书 and 李主任, where config says they are."""
    monkeypatch.setenv(WANG, SECRETARY_TOKEN)
    monkeypatch.setenv(LI, LEADER_TOKEN)


@asynccontextmanager
async def serving(
    settings: Settings, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[Console]:
    """A started bot serving the console, and its group; stopped afterwards."""
    app = App(settings, clock=clock, adapters=[sender], secret=b"k", fire_jobs=False)
    await app.start()
    try:
        yield Console(app, Group(app, clock, sender), f"http://127.0.0.1:{app.web_port}")
    finally:
        await app.stop()


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 (as a browser does) and never follows
    redirects, so the tests see them."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def csrf_of(session: aiohttp.ClientSession, url: str) -> str:
    """The CSRF token in the form of the page at `url`."""
    async with session.get(url) as response:
        page = await response.text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def sign_in(session: aiohttp.ClientSession, base: str, token: str) -> aiohttp.ClientResponse:
    """Fill in the sign-in form as a browser would."""
    csrf = await csrf_of(session, f"{base}/console/login")
    return await session.post(
        f"{base}/console/login",
        data={"csrf_token": csrf, "token": token, "next": "/console/"},
        allow_redirects=False,
    )


async def hold_consultation(group: Group) -> None:
    """Opinions, seconds, an anonymous poll and a referral, all through the dispatcher."""
    await group.say(MODERATOR, "/协商 开始 夜市延长到23点")
    await group.say("张三", "/意见 夜市噪音影响居民休息")
    await group.say("李四", "/建议 设置夜市分区，靠近居民区的摊位22点收摊")
    await group.say("王五", "/附议 #2")
    await group.say(MODERATOR, "/投票 是否支持夜市延长到23点？| 支持 | 反对 | 弃权 匿名")
    await group.say("张三", "/投 2")
    await group.say("李四", "/投 1")
    await group.say("王五", "/投 1")
    await group.say(MODERATOR, "/结束投票")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.say("秘书", "/报送 #2 市商务局 期限 30天", role=Role.SECRETARY)

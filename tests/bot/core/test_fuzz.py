"""Hostile input from members: the bot never crashes, answers briefly, stores nothing beyond
its limits, and nothing a member writes becomes structure in what the bot says."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.dispatcher import Outcome
from bot.core.messages import IncomingMessage
from bot.core.router import CommandTable, Router
from bot.core.text import clean_member_text, markdown_inert
from bot.runtime.app import App
from handlers import ROUTERS
from storage.enums import Role
from tests.conftest import make_settings
from tests.support import RecordingSender

TABLE = CommandTable(ROUTERS)
SPELLINGS = sorted(
    {
        f"{prefix}{spelling}"
        for c in TABLE.commands
        for spelling in (c.name, *c.aliases)
        for prefix in ("/", "／")
    }
)
HOSTILE = [
    "# 标题",
    "## 二级",
    "> 引用",
    "- 列表",
    "1. 编号",
    "[点我](http://evil.example)",
    "![图](http://evil.example/x.png)",
    "<script>alert(1)</script>",
    "<b>粗</b>",
    '<font color="warning">红</font>',
    "@所有人",
    "@all",
    "**强调**",
    "`代码`",
    "|表|格|",
    "\u200b",
    "\u200d",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\n\n\n",
    "＃１２",
    "／投 ２",
    "｜",
    "😀",
    "#12",
    "#999999999999",
    " ",
    "\t",
    "截止",
    "匿名",
    "|",
]
MAX_REPLY = 3000
OUTCOMES = {"ok", "usage", "refused", "hint", "ignored", "flooded", "duplicate"}
STRUCTURE = {
    "heading_open",
    "link_open",
    "image",
    "html_inline",
    "html_block",
    "blockquote_open",
    "bullet_list_open",
    "ordered_list_open",
    "strong_open",
    "em_open",
    "code_inline",
}

words = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)), max_size=10).map(
    "".join
)
any_command = st.builds(
    lambda command, body, repeat: (command + " " + body) * repeat,
    st.one_of(st.sampled_from(SPELLINGS), st.just("")),
    words,
    st.sampled_from([1, 1, 1, 2, 50, 2000]),
)
# Commands whose answers repeat what was written (a poll's question and options, a topic,
# a plan, a department), shaped as they expect so the words get that far.
echoing = st.one_of(
    st.builds(lambda q, a, b: f"/投票 {q} | {a} | {b}", words, words, words),
    st.builds(lambda t: f"/选题 {t}", words),
    st.builds(lambda t: f"/方案 {t}", words),
    st.builds(lambda t: f"/调研 {t}", words),
    st.builds(lambda d: f"/报送 #1 {d} 期限 30天", words),
    st.builds(lambda t: f"/投 {t}", words),
)
message_text = st.one_of(any_command, echoing)


class BotThread:
    """A started bot on its own event loop, so synchronous Hypothesis tests can talk to it."""

    def __init__(self, folder: Path) -> None:
        self.sender = RecordingSender()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = App(
            make_settings(f"sqlite:///{folder / 'fuzz.db'}"),
            adapters=[self.sender],
            secret=b"fuzz",
            fire_jobs=False,
            serve_web=False,
        )
        self.run(self.app.start())
        self.ids = itertools.count()

    def run(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    def say(self, who: str, text: str, role: Role | None = None) -> Outcome:
        message = IncomingMessage(
            platform="test",
            conversation_id="群1",
            conversation_title="群1",
            sender_id=who,
            sender_name=who,
            text=text,
            message_id=f"f{next(self.ids)}",
            timestamp=datetime.now(UTC),
            platform_roles=frozenset({role}) if role else frozenset(),
        )
        outcome: Outcome = self.run(self.app.dispatcher.dispatch(message))
        return outcome

    def close(self) -> None:
        self.run(self.app.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotThread]:
    running = BotThread(tmp_path_factory.mktemp("fuzz"))
    running.say("主持人", "/协商 开始 夜市", Role.MODERATOR)
    running.say("主持人", "/投票 延长？| 支持 | 反对", Role.MODERATOR)
    running.say("张三", "/意见 一条可以附议的意见")
    yield running
    running.close()


def structure_in(text: str) -> set[str]:
    """Markdown structure a renderer would make of `text`."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    found = {t.type for t in tokens}
    for token in tokens:
        found |= {child.type for child in token.children or ()}
    return found & STRUCTURE


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    who=st.sampled_from(["张三", "李四", "王五", "赵六", "钱七"]),
    role=st.sampled_from([None, Role.MODERATOR, Role.SECRETARY, Role.LIAISON]),
    text=message_text,
)
def test_no_message_crashes_the_bot_or_forges_structure(
    bot: BotThread, who: str, role: Role | None, text: str
) -> None:
    outcome = bot.say(who, text, role)

    assert outcome.status in OUTCOMES
    for reply in outcome.replies:
        assert len(reply) <= MAX_REPLY
        assert not structure_in(markdown_inert(reply))
        assert "@所有人" not in markdown_inert(reply)


def test_what_was_stored_stays_within_the_limits(bot: BotThread) -> None:
    limit = bot.app.settings.limits.max_text_chars
    with bot.app.engine.connect() as connection:
        texts = [row[0] for row in connection.execute(sa.text("SELECT text FROM opinion"))]
        topics = [row[0] for row in connection.execute(sa.text("SELECT topic FROM consultation"))]

    assert texts
    for text in [*texts, *topics]:
        assert len(text) <= limit
        assert clean_member_text(text) == text  # no control or invisible characters kept


@settings(max_examples=500)
@given(st.text(max_size=400))
def test_inert_markdown_has_no_structure(text: str) -> None:
    inert = markdown_inert(text)

    assert not structure_in(inert)
    assert "@" not in inert


@given(st.text(max_size=400))
def test_cleaning_is_idempotent_and_leaves_no_control_characters(text: str) -> None:
    cleaned = clean_member_text(text)

    assert clean_member_text(cleaned) == cleaned
    assert all(ch == "\n" or ch >= " " for ch in cleaned)


def test_every_router_is_fuzzed() -> None:
    assert all(isinstance(router, Router) for router in ROUTERS)
    assert len(SPELLINGS) >= 2 * len(TABLE.commands)

"""The local chat in a real browser (headless Debian chromium): two tabs are two members,
one on a phone (390 × 844) and one on a desk (1440 × 900); the bot restarts mid-way and
both tabs come back by themselves with the whole conversation, read from the database.

One bot process (restarted once) and one browser for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import (
    DESK,
    PHONE,
    RAW_MARKDOWN,
    beyond_the_viewport,
    free_port,
    launch_chromium,
    screenshot,
    wait_until_serving,
)
from tests.fakes.bot import BotProcess

SLOW = 30_000  # ms: the minutes are built in the background; a restart takes seconds


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser for the module."""
    yield from launch_chromium()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BotProcess, str]]:
    """`xieshang run` with the local chat on a port of its own, kept across its restart."""
    workdir = tmp_path_factory.mktemp("chat-browser")
    port = free_port()
    process = BotProcess(
        workdir,
        {
            "XIESHANG_DATABASE__URL": f"sqlite:///{workdir / 'xieshang.db'}",
            "XIESHANG_WEB__PORT": str(port),
            "XIESHANG_PLATFORMS__LOCAL__ENABLED": "true",
            "XIESHANG_OUTBOX__ACK_DELAY_SECONDS": "0.2",
        },
    )
    base = f"http://127.0.0.1:{port}"
    process.start()
    try:
        wait_until_serving(base, process)
        yield process, base
    finally:
        assert process.stop() == 0


def enter_as(page: Page, name: str, role: str) -> None:
    """Answer the tab's question of who it is."""
    dialog = page.locator("dialog#ask")
    expect(dialog).to_be_visible()
    page.locator("#name").fill(name)
    page.locator("#role").select_option(label=role)
    dialog.get_by_role("button", name="进入群聊").click()
    expect(dialog).to_be_hidden()


def say(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")
    expect(page.locator("#text")).to_have_value("")


def lines(page: Page) -> Iterator[str]:
    """Each message's text as the page shows it."""
    yield from page.locator("#log .msg .body").all_inner_texts()


def test_two_tabs_two_members_a_restart_and_the_whole_conversation_after_it(
    chromium: Browser, bot: tuple[BotProcess, str], tmp_path: Path
) -> None:
    process, base = bot
    context = chromium.new_context(locale="zh-CN")
    phone, desk = context.new_page(), context.new_page()
    phone.set_viewport_size(PHONE)
    desk.set_viewport_size(DESK)

    phone.goto(f"{base}/chat")
    enter_as(phone, "张三", "主持人")
    expect(phone.get_by_text("在下方输入 /帮助 开始")).to_be_visible()
    say(phone, "/协商 开始 夜市延长到23点")
    expect(phone.get_by_text("协商开始：「夜市延长到23点」")).to_be_visible()

    desk.goto(f"{base}/chat")
    expect(desk.locator("#as-last")).to_have_text("我是张三")  # the last name, offered
    enter_as(desk, "李四", "委员")
    expect(desk.get_by_text("协商开始：「夜市延长到23点」")).to_be_visible()  # the history
    say(desk, "意见 夜市噪音影响居民休息")  # no slash: the chat talks to the bot
    expect(phone.get_by_text("已记录李四的意见 #1")).to_be_visible()
    say(phone, "/投票 是否支持夜市延长到23点？| 支持 | 反对 截止 明天下午3点")
    say(desk, "投 1")
    expect(phone.get_by_text("投票 #1：已记录李四的选票")).to_be_visible()

    # The moderator tab becomes the secretary and asks for the minutes (Markdown).
    phone.locator("#who").click()
    phone.locator("#role").select_option(label="秘书")
    phone.get_by_role("button", name="进入群聊").click()
    say(phone, "/纪要")
    minutes = desk.locator(".msg.bot .body.md h3")
    expect(minutes).to_contain_text("会议纪要：夜市延长到23点", timeout=SLOW)
    expect(phone.locator(".msg.bot .body.md h3")).to_be_visible()
    before = {"phone": list(lines(phone)), "desk": list(lines(desk))}
    for page, name, size in ((phone, "chat-390", PHONE), (desk, "chat-1440", DESK)):
        assert beyond_the_viewport(page) == [], name
        assert not re.search(RAW_MARKDOWN, page.locator("#log").inner_text()), name
        screenshot(page, name, full_page=False)
        assert size == page.viewport_size

    process.stop()
    expect(desk.locator("#status")).to_have_text("连接已断开，正在重连…")
    process.start()

    for page in (phone, desk):
        expect(page.locator("body")).to_have_attribute("data-connected", "yes", timeout=SLOW)
        expect(page.locator("#status")).to_have_text("")
    after = {"phone": list(lines(phone)), "desk": list(lines(desk))}
    say(desk, "/附议 #1")  # the conversation goes on
    expect(phone.get_by_text("你已附议过").or_(phone.get_by_text("不能附议自己"))).to_be_visible()
    context.close()

    assert after == before  # each tab shows the whole conversation again, from the database
    assert any("会议纪要" in line for line in after["phone"])

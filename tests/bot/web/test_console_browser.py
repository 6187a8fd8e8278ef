"""The console in a real browser: headless Debian chromium (Playwright) against a running
`xieshang run`, with a consultation held through the local chat's API (the real dispatcher).

One bot and one browser for the module; screenshots of the main pages go to tests/artifacts/.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.browser import (
    DESK,
    PHONE,
    RAW_MARKDOWN,
    beyond_the_viewport,
    free_port,
    launch_chromium,
    screenshot,
    screenshot_path,
    wait_until_serving,
)
from tests.fakes.bot import BotProcess

ROOM = "本地协商群"
LEADER_TOKEN = "leader-token-for-browser-tests-0123456789"
_IDS = itertools.count(1)
# A poll whose options are long, as real ones are: the chart shows each in full.
LONG_OPTIONS = (
    "旧小区加装电梯如何破解资金难题：政府补贴为主、居民按楼层分摊为辅",
    "引入社会资本参与建设和运营，居民按使用次数付费",
)


@dataclass
class Served:
    """The running bot and what the tests sign in with."""

    base: str
    secretary_token: str
    bot: BotProcess


def say(base: str, who: str, text: str, *, role: str = "member") -> None:
    """`who` sends `text` in the local chat; it is committed when this returns."""
    body = json.dumps(
        {
            "conversation": ROOM,
            "sender_id": f"local-{who}",
            "sender_name": who,
            "role": role,
            "text": text,
            "id": f"browser-{next(_IDS)}",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base}/api/local/messages", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.load(answer)["status"] != "error"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`xieshang run` with the local chat, a secretary added by `xieshang user add` and a
    leader from config, and a consultation held in the chat."""
    workdir = tmp_path_factory.mktemp("console-browser")
    port = free_port()
    bot = BotProcess(
        workdir,
        {
            "XIESHANG_DATABASE__URL": f"sqlite:///{workdir / 'xieshang.db'}",
            "XIESHANG_WEB__PORT": str(port),
            "XIESHANG_PLATFORMS__LOCAL__ENABLED": "true",
            "XIESHANG_CONSOLE__USERS": json.dumps(
                [{"name": "李主任", "role": "leader", "token_env": "XIESHANG_CONSOLE_TOKEN_LI"}]
            ),
            "XIESHANG_CONSOLE_TOKEN_LI": LEADER_TOKEN,
        },
    )
    added = subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", "user", "add", "王秘书"],
        cwd=workdir,
        env=bot.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    bot.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, bot)
        say(base, "主持人", "/协商 开始 夜市延长到23点", role="moderator")
        say(base, "张三", "/意见 夜市噪音影响居民休息")
        say(base, "李四", "/建议 设置夜市分区，靠近居民区的摊位22点收摊")
        say(base, "李四", "/意见 夜市垃圾要当晚清运")
        say(base, "王五", "/附议 #2")
        poll = "/投票 是否支持夜市延长到23点？| 支持 | 反对 | 弃权 匿名"
        say(base, "主持人", poll, role="moderator")
        say(base, "张三", "/投 2")
        say(base, "李四", "/投 1")
        say(base, "王五", "/投 1")
        say(base, "主持人", "/结束投票", role="moderator")
        say(base, "主持人", f"/投票 资金怎么筹？| {' | '.join(LONG_OPTIONS)}", role="moderator")
        say(base, "张三", "/投 2")
        say(base, "主持人", "/结束投票", role="moderator")
        say(base, "秘书", "/纪要", role="secretary")  # built in the background
        yield Served(base, added.stdout.strip().splitlines()[-1], bot)
    finally:
        assert bot.stop() == 0


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's chromium under Playwright (never a downloaded browser build)."""
    yield from launch_chromium()


@pytest.fixture(scope="module")
def secretary(chromium: Browser, served: Served) -> Iterator[Page]:
    """A browser window signed in as the secretary."""
    context = chromium.new_context(accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{served.base}/console/")
    assert "/console/login" in page.url  # signed out: sent to sign in
    page.get_by_label("令牌").fill(served.secretary_token)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{served.base}/console/")
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of what the user sees."""
    screenshot(page, name)


def test_the_secretary_opens_the_consultation_and_filters_opinions(
    secretary: Page, served: Served
) -> None:
    page = secretary
    expect(page.get_by_text("王秘书（秘书）")).to_be_visible()
    shot(page, "console-list")
    page.get_by_role("link", name="夜市延长到23点").click()
    expect(page.locator("h2.topic")).to_have_text("夜市延长到23点")
    expect(page.locator("#polls svg rect.bar")).to_have_count(5)
    shot(page, "console-consultation")

    page.get_by_label("委员").select_option(label="李四")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("#opinion-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("设置夜市分区")
    expect(rows.nth(1)).to_contain_text("夜市垃圾要当晚清运")
    expect(page.locator("#opinion-table")).not_to_contain_text("张三")
    shot(page, "console-opinions-filtered")


def test_the_ballots_download_keeps_anonymous_voters_anonymous(
    secretary: Page, served: Served, tmp_path: Path
) -> None:
    page = secretary
    page.goto(f"{served.base}/console/consultations/1")
    with page.expect_download() as download:
        page.locator("#polls").get_by_role("link", name="XLSX").click()
    target = tmp_path / "ballots.xlsx"
    download.value.save_as(target)

    rows = list(load_workbook(target).active.values)
    assert download.value.suggested_filename == "协商1-投票明细.xlsx"
    assert [row[2:5] for row in rows[1:]] == [
        ("匿名（只计票数）", "支持", 2),
        ("匿名（只计票数）", "反对", 1),
        ("匿名（只计票数）", "弃权", 0),
        ("张三", LONG_OPTIONS[1], 1),  # the second poll was not anonymous
    ]


def test_the_minutes_docx_downloads_with_its_sections(
    secretary: Page, served: Served, tmp_path: Path
) -> None:
    page = secretary
    link = page.locator("#minutes-docx")
    page.goto(f"{served.base}/console/consultations/1")
    deadline = time.monotonic() + 60
    # The secretary reloads until the background build has stored version 1. (A goto to the
    # same address with only a #fragment would scroll the old page, not fetch a new one.)
    while not link.count() and time.monotonic() < deadline:
        page.wait_for_timeout(250)  # a poll of a condition, not a wait standing in for one
        page.reload()
    expect(page.locator("#minutes")).to_contain_text("最新：第 1 版")
    shot(page, "console-minutes")
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "minutes.docx"
    download.value.save_as(target)

    text = "\n".join(paragraph.text for paragraph in Document(str(target)).paragraphs)
    assert "夜市延长到23点" in text
    for heading in ("一、概况", "二、主要意见", "三、表决情况", "四、共识与分歧", "五、建议事项"):
        assert heading in text
    assert "夜市噪音影响居民休息" in text  # a member's words, quoted verbatim


def test_signed_out_and_forged_requests_are_refused(
    chromium: Browser, secretary: Page, served: Served
) -> None:
    stranger = chromium.new_context()
    signed_out = stranger.request.get(
        f"{served.base}/console/consultations/1/ballots.xlsx", max_redirects=0
    )
    refusal = (signed_out.status, signed_out.text())
    stranger.close()
    context = secretary.context
    forged = context.request.post(
        f"{served.base}/console/exports/statistics", form={"year": "2026"}, max_redirects=0
    )

    assert refusal == (401, "请先登录秘书工作台。")
    assert forged.status == 403
    assert "CSRF" in forged.text()


def test_the_year_export_shows_progress_then_downloads(
    secretary: Page, served: Served, tmp_path: Path
) -> None:
    page = secretary
    page.goto(f"{served.base}/console/stats")
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "console-stats")
    page.locator("#export-stats").click()
    link = page.locator("#job-download")
    expect(link).to_be_visible(timeout=30_000)
    expect(page.locator("#job-step")).to_have_text("已完成")
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "stats.xlsx"
    download.value.save_as(target)

    assert load_workbook(target).sheetnames == ["总计", "按月", "按群"]


def test_the_chat_and_the_console_link_to_each_other(secretary: Page, served: Served) -> None:
    page = secretary
    page.goto(f"{served.base}/console/consultations/1")
    page.locator("#to-chat").click()
    expect(page.locator("#conversation")).to_have_value(ROOM)
    page.locator("#name").fill("王秘书")  # a new tab asks who it is
    page.locator("#role").select_option(label="秘书")
    page.get_by_role("button", name="进入群聊").click()
    expect(page.get_by_text("协商开始：「夜市延长到23点」").first).to_be_visible()
    shot(page, "chat")
    page.get_by_role("link", name="秘书工作台").click()
    page.wait_for_url(f"{served.base}/console/consultations/1")


def test_a_leader_reads_on_a_phone(chromium: Browser, served: Served) -> None:
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{served.base}/console/login?next=" + quote("/console/consultations/1"))
    page.get_by_label("令牌").fill(LEADER_TOKEN)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{served.base}/console/consultations/1")
    nav = page.locator("header.bar nav")
    expect(nav).to_be_hidden()  # folded behind the menu button
    page.get_by_text("菜单").click()
    expect(nav.get_by_text("李主任（领导（只读））")).to_be_visible()
    beyond = beyond_the_viewport(page)
    shot(page, "console-phone-390")
    context.close()

    assert beyond == []  # wide tables scroll inside their box, not the page


# Labels of the poll charts that do not show whole: cut by their box, or shortened.
CUT_LABELS = """() => [...document.querySelectorAll("#polls .hbar .label")]
  .filter((label) => label.scrollWidth > label.clientWidth + 1 || label.textContent.endsWith("…"))
  .map((label) => label.textContent)"""


@pytest.mark.parametrize(("size", "width"), [(PHONE, 390), (DESK, 1440)])
def test_the_consultation_page_reads_on_a_phone_and_a_desk(
    secretary: Page, served: Served, size: dict[str, int], width: int
) -> None:
    page = secretary
    page.set_viewport_size(size)
    page.goto(f"{served.base}/console/consultations/1")
    deadline = time.monotonic() + 60
    while not page.locator("#minutes-docx").count() and time.monotonic() < deadline:
        page.wait_for_timeout(250)  # a poll of the background build, not a wait for timing
        page.reload()
    minutes = page.locator("#minutes")
    expect(minutes.locator(".md h3")).to_contain_text("会议纪要：夜市延长到23点")
    labels = page.locator("#polls .hbar .label").all_inner_texts()
    beyond, cut = beyond_the_viewport(page), page.evaluate(CUT_LABELS)
    screenshot(page, f"console-consultation-{width}")
    minutes.screenshot(path=str(screenshot_path(f"console-minutes-{width}")))
    page.set_viewport_size({"width": 1280, "height": 720})

    assert beyond == []
    assert cut == []
    assert set(LONG_OPTIONS) <= set(labels)  # in full, wrapped where the screen is narrow
    assert not re.search(RAW_MARKDOWN, minutes.inner_text())
    assert "协商助手后台" not in page.content()  # the secretary is in it

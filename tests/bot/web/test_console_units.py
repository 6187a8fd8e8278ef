"""The console with units configured: the year's table with a chart per level, its sheets in
the export, and a consultation's follow-up (签批, 发文) on its page."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook

from bot.core.clock import ManualClock
from bot.core.settings import ConsoleSettings, ConsoleUserEntry, WebSettings
from bot.runtime.app import App
from storage.enums import Role
from tests.bot.web.support import LEADER_TOKEN, LI, Console, browser, sign_in
from tests.conftest import make_settings
from tests.support import MODERATOR, Group, RecordingSender

TREE = [
    {"name": "西湖区", "level": "县", "groups": ["test:群1"]},
    {"name": "转塘街道", "level": "乡镇", "parent": "西湖区"},
]


@pytest.fixture
async def console(
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Console]:
    """The bot with its web server, a leader's console account and two units."""
    monkeypatch.setenv(LI, LEADER_TOKEN)
    settings = make_settings(
        ready_database_url,
        web=WebSettings(port=0),
        console=ConsoleSettings(
            users=[ConsoleUserEntry(name="李主任", role="leader", token_env=LI)]
        ),
        units={"tree": TREE},
    )
    app = App(settings, clock=clock, adapters=[sender], secret=b"k", fire_jobs=False)
    await app.start()
    try:
        yield Console(app, Group(app, clock, sender), f"http://127.0.0.1:{app.web_port}")
    finally:
        await app.stop()


async def test_the_console_shows_units_against_their_quota_and_the_follow_up(
    console: Console,
) -> None:
    group = console.group
    await group.say(MODERATOR, "/协商 开始 夜市延长到23点")
    await group.say("李四", "/建议 设置夜市分区")
    await group.say("秘书", "/出席 王明 区委 书记", role=Role.SECRETARY)
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.say("秘书", "/报送 #1 区商务局", role=Role.SECRETARY)
    await group.say("秘书", "/签批 #1 王明 区委书记 请抓紧研究", role=Role.SECRETARY)
    await group.say("秘书", "/发文 #1 政府办 《夜市分区管理办法》", role=Role.SECRETARY)
    async with browser() as session:
        await sign_in(session, console.base, LEADER_TOKEN)
        async with session.get(f"{console.base}/console/stats?year=2026") as page:
            stats = await page.text()
        async with session.get(f"{console.base}/console/consultations/1") as page:
            consultation = await page.text()
    assert console.app.console is not None
    workbook = load_workbook(io.BytesIO(console.app.console.statistics_work(2026)(print_nothing)))

    assert "各单位（年度目标 6+X）" in stats
    assert "<figcaption>县（市、区）</figcaption>" in stats
    assert "西湖区（目标6）：1 场" in stats
    assert "差 5 场" in stats
    # The follow-up is a section of the page of its own, after the referrals.
    assert consultation.index('id="referrals"') < consultation.index('id="follow-up"')
    assert "请抓紧研究" in consultation
    assert "《夜市分区管理办法》" in consultation
    assert "签批 #1：王明（区委书记）" in consultation  # on the timeline
    assert workbook.sheetnames == ["总计", "按月", "按群", "县级", "乡镇级"]
    header = [cell.value for cell in workbook["县级"][1]]
    xihu = dict(zip(header, [cell.value for cell in workbook["县级"][2]], strict=True))
    assert (xihu["单位"], xihu["协商场数（本级）"], xihu["完成情况"]) == ("西湖区", 1, "差 5 场")
    assert (xihu["签批次数"], xihu["发文总数"], xihu["一把手参加场数"]) == (1, 1, 1)


def print_nothing(done: int, total: int, step: str) -> None:
    """An export's progress, unwatched."""

"""A whole consultation, all seven steps, in a simulated group: from choosing the topic to
the ratings of the departments' replies, and the figures that count it afterwards."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.core.clock import ManualClock
from bot.runtime.cli import main
from storage.enums import Role
from tests.support import MODERATOR, Group

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


async def secretary(group: Group, text: str) -> str:
    return await group.answer("秘书", text, role=Role.SECRETARY)


async def liaison(group: Group, text: str) -> str:
    return await group.answer("联络员", text, role=Role.LIAISON)


async def moderator(group: Group, text: str) -> str:
    return await group.answer(MODERATOR, text)


async def reminders_at(group: Group, clock: ManualClock, moment: datetime) -> list[str]:
    clock.set(moment)
    return await group.app.scheduler.run_due(moment)


async def test_a_consultation_walks_through_all_seven_steps(
    group: Group,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1 选题定题: members propose, a poll with a deadline chooses.
    await moderator(group, "/协商 开始")
    await group.say("张三", "/选题 夜市延长营业时间")
    await group.say("李四", "/选题 社区食堂")
    await moderator(group, "/选题 投票 截止 1小时")
    for who, choice in (("张三", 1), ("李四", 2), ("王五", 1)):
        await group.say(who, f"/投 {choice}")
    assert "在「开展协商」阶段可用" in await group.answer("张三", "/意见 先说一句")
    settled = await reminders_at(group, clock, at(11, 24, 10))
    assert settled[1].startswith("议题确定：「夜市延长营业时间」（选题 #1，2 票）")

    # 2 制订方案
    await moderator(group, "/协商 阶段 下一步")
    await moderator(group, "/方案 时间 11月26日下午 形式 群内协商 部门 市民政局、市财政局")

    # 3 组织调研
    await moderator(group, "/协商 阶段 下一步")
    await group.say("李四", "/调研 走访夜市摊主20户，多数支持延长到23点")

    # 4 开展协商: opinions, suggestions, seconds; a leader attends.
    clock.set(at(11, 26, 15))
    await moderator(group, "/协商 阶段 下一步")
    await group.say("张三", "/建议 设置降噪屏障")  # 1
    await group.say("李四", "/建议 增设夜间公交")  # 2
    await group.say("王五", "/意见 要兼顾居民休息")  # 3
    await group.say("李四", "/附议 #1")
    await group.say("王五", "/附议 #1 #2")
    await group.say("赵六", "/附议 #2")
    await secretary(group, "/出席 王明 市民政局 副局长")
    before = group.rows("SELECT count(*) FROM referral")
    assert "仅限秘书使用" in await moderator(group, "/报送 #1 市民政局")
    assert group.rows("SELECT count(*) FROM referral") == before

    # 5 报送意见: two departments, two deadlines.
    clock.set(at(11, 27))
    await moderator(group, "/协商 阶段 下一步")
    first = await secretary(group, "/报送 #1 市民政局 期限 30天")  # last day 12月27日
    second = await secretary(group, "/报送 #2 市交通局 协办 市财政局 期限 15天")  # 12月12日
    assert "报送 #1：#1 已报送市民政局，请于 12月27日 前答复" in first
    assert "报送 #2：#2 已报送市交通局，市财政局协办，请于 12月12日 前答复" in second

    # 6 办理反馈: one reply on time, one overdue after its reminders.
    await moderator(group, "/协商 阶段 下一步")
    assert "答复后才能评价" in await group.answer("张三", "/评价 #1 办理 5 结果 5")
    assert await reminders_at(group, clock, at(12, 5, 8)) == []
    week_before = await reminders_at(group, clock, at(12, 5))
    clock.set(at(12, 8, 16))
    on_time = await liaison(group, "/反馈 #1 A 已在夜市两侧设置降噪屏障")
    day_before = await reminders_at(group, clock, at(12, 11))
    missed = await reminders_at(group, clock, at(12, 13))
    week_after = await reminders_at(group, clock, at(12, 20))
    overdue = await group.answer("张三", "/督办")
    clock.set(at(12, 21, 10))
    late = await liaison(group, "/反馈 #2 未采纳 夜间客流不足，暂不增设线路")
    assert await reminders_at(group, clock, at(12, 27)) == []

    assert [len(week_before), len(day_before), len(missed), len(week_after)] == [1, 1, 1, 1]
    assert week_before[0].startswith("督办提醒：报送 #2（夜市延长营业时间）市交通局")
    assert "还有 7 天" in week_before[0]
    assert "还有 1 天" in day_before[0]
    assert "已逾期 1 天（期限 12月12日）" in missed[0]
    assert "已逾期 8 天" in week_after[0]
    assert "报送 #2「夜市延长营业时间」市交通局：期限 12月12日，逾期 8 天" in overdue
    assert "（A 已解决，按期答复）" in on_time
    assert "张三、李四、王五：你们提出或附议的 #1 有了答复" in on_time
    assert "（未采纳，逾期 9 天答复）" in late
    assert "李四、王五、赵六：" in late

    # 7 结果评价: each member rates once; a second rating replaces the first.
    await moderator(group, "/协商 阶段 下一步")
    await group.say("张三", "/评价 #1 办理 5 结果 4")
    await group.say("李四", "/评价 #1 办理 3 结果 3")
    await group.say("李四", "/评价 #1 办理 4 结果 4 看到了效果")
    await group.say("王五", "/评价 #2 办理 2 结果 1 答复太晚")
    summary = await group.answer("张三", "/评价 汇总")
    assert "报送 #1 市民政局：2 人评价，办理 4.5 分，结果 4.0 分" in summary
    assert "报送 #2 市交通局：1 人评价，办理 2.0 分，结果 1.0 分" in summary

    assert group.rows("SELECT to_stage FROM stage_change ORDER BY id") == [
        ("topic",),
        ("plan",),
        ("research",),
        ("consult",),
        ("refer",),
        ("reply",),
        ("evaluate",),
    ]

    # The statistics afterwards match what happened.
    stats = await secretary(group, "/统计 2026")
    assert "协商 1 场（进行中 1）：结果评价 1" in stats
    # 张三, 李四, 王五, 赵六 took part; 主持人, 秘书 and 联络员 are staff, not counted.
    assert "参与委员 4 人，4 人次；领导和部门负责人出席 1 人次" in stats
    assert "意见 1 条，建议 2 条" in stats
    assert "报送 2 件（意见建议 2 条），已答复 2 件，待答复 0 件" in stats
    assert "答复分类：A 已解决 1，B 正在解决 0，C 列入计划 0，未采纳 1" in stats
    assert "采纳率 50%" in stats
    assert "逾期 1 件（逾期答复 1，逾期未答复 0）" in stats
    assert "评价 3 份，办理平均 3.7 分，结果平均 3.0 分" in stats

    # The secretary's exports open as real DOCX and XLSX files.
    monkeypatch.setenv("XIESHANG_DATABASE__URL", group.app.settings.database.url)
    workbook_path, letter_path = tmp_path / "统计.xlsx", tmp_path / "报送函.docx"
    assert (
        main(["stats", "--year", "2026", "--format", "xlsx", "--output", str(workbook_path)]) == 0
    )
    # The letter's 文号 (协商报送〔2026〕N号) gives N, which `xieshang letter` takes.
    [referral_id] = set(re.findall(r"协商报送〔2026〕(\d+)号", second))
    assert main(["letter", referral_id, "--output", str(letter_path)]) == 0

    figures = {
        row[0]: row[1]
        for row in load_workbook(BytesIO(workbook_path.read_bytes()))["协商统计"].iter_rows(
            min_row=3, values_only=True
        )
    }
    assert figures["协商场次"] == 1
    assert figures["建议"] == 2
    assert figures["报送件数"] == 2
    assert figures["答复：A 已解决"] == 1
    assert figures["采纳率"] == 0.5
    assert figures["逾期"] == 1
    assert figures["评价"] == 3
    status = await group.answer("张三", "/协商 状态")
    assert "报送 #1 市民政局：已答复（A 已解决，按期），2 人评价：办理 4.5，结果 4.0" in status
    assert "报送 #2 市交通局：已答复（未采纳，逾期），1 人评价：办理 2.0，结果 1.0" in status
    ending = await moderator(group, "/协商 结束")
    assert "评价结果：\n报送 #1 市民政局：2 人评价，办理 4.5 分，结果 4.0 分" in ending

    letter = [p.text for p in Document(str(letter_path)).paragraphs if p.text]
    assert letter[2] == "市交通局："
    assert "（一）#2 增设夜间公交（提出：李四；附议：王五、赵六，共 2 人）" in letter

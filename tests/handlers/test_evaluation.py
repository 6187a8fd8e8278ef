"""Members rate replied referrals: handling and result, one rating each, replaceable."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from storage.enums import Role
from tests.support import MODERATOR, Group


async def replied_and_evaluating(group: Group) -> None:
    """Two referrals, the first answered; the consultation is in 结果评价."""
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say("张三", "/建议 设置降噪屏障")
    await group.say("李四", "/建议 增设公共厕所")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.say("秘书", "/报送 #1 市民政局", role=Role.SECRETARY)
    await group.say("秘书", "/报送 #2 市城管局", role=Role.SECRETARY)
    await group.say("联络员", "/反馈 #1 A 已设置降噪屏障", role=Role.LIAISON)
    await group.say(MODERATOR, "/协商 阶段 结果评价")
    await group.group_sees()


async def test_ratings_are_acknowledged_and_averaged(group: Group) -> None:
    await replied_and_evaluating(group)

    await group.say("张三", "/评价 #1 办理 5 结果 4 办得及时")
    await group.say("李四", "/评价 1 4 3")  # the # may be left out
    seen = await group.group_sees()
    summary = await group.answer("王五", "/评价 汇总")

    assert seen == ["报送 #1：已记录 2 份评价"]
    assert summary.splitlines() == [
        "评价汇总：",
        "报送 #1 市民政局：2 人评价，办理 4.5 分，结果 3.5 分",
    ]
    assert group.rows("SELECT handling, result, comment FROM referral_rating ORDER BY id") == [
        (5, 4, "办得及时"),
        (4, 3, ""),
    ]


async def test_averages_are_rounded_half_up_as_people_round(group: Group) -> None:
    await replied_and_evaluating(group)
    # Handling 3, 3, 3, 4: 3.25; result 4, 4, 4, 3: 3.75. Python's format() shows 3.2.
    for member, handling, result in (("张三", 3, 4), ("李四", 3, 4), ("王五", 3, 4)):
        await group.say(member, f"/评价 #1 办理 {handling} 结果 {result}")
    await group.say("赵六", "/评价 #1 办理 4 结果 3")

    summary = await group.answer("王五", "/评价 汇总")
    statistics = await group.answer(MODERATOR, "/统计")

    assert "报送 #1 市民政局：4 人评价，办理 3.3 分，结果 3.8 分" in summary
    assert "办理平均 3.3 分，结果平均 3.8 分" in statistics


async def test_a_second_rating_replaces_the_first(group: Group) -> None:
    await replied_and_evaluating(group)
    start = group.clock.now()

    first = await group.answer("张三", "/评价 #1 办理 2 结果 2")
    second = await group.answer(
        "张三", "/评价 #1 结果 5 办理 4 重新看了答复", at=start + timedelta(minutes=1)
    )
    stale = await group.answer("张三", "/评价 #1 办理 1 结果 1", at=start + timedelta(seconds=30))

    assert first == "报送 #1：已记录张三的评价（办理 2，结果 2）"
    assert second == "报送 #1：已更新张三的评价（办理 4，结果 5）"
    assert stale == "张三：你对报送 #1 有一条更晚的评价，以那一条为准。"
    assert group.rows("SELECT handling, result, comment FROM referral_rating") == [
        (4, 5, "重新看了答复")
    ]


async def test_an_unanswered_referral_cannot_be_rated_yet(group: Group) -> None:
    await replied_and_evaluating(group)

    answer = await group.answer("张三", "/评价 #2 办理 3 结果 3")

    assert "报送 #2 还没有答复，答复后才能评价" in answer
    assert group.count("referral_rating") == 0


async def test_a_reply_is_rated_as_soon_as_it_comes(group: Group) -> None:
    await replied_and_evaluating(group)
    await group.say(MODERATOR, "/协商 阶段 办理反馈")

    answer = await group.answer("张三", "/评价 #1 办理 5 结果 5")

    assert answer == "报送 #1：已记录张三的评价（办理 5，结果 5）"
    assert group.count("referral_rating") == 1


async def test_a_referral_answered_after_the_close_is_rated(group: Group) -> None:
    await replied_and_evaluating(group)
    await group.say(MODERATOR, "/协商 结束")
    await group.say("联络员", "/反馈 #2 B 正在建设公厕", role=Role.LIAISON)
    await group.say(MODERATOR, "/协商 开始 加装电梯")  # the next one: #2 is still the letter's

    answer = await group.answer("李四", "/评价 #2 办理 4 结果 3")

    assert answer == "报送 #2：已记录李四的评价（办理 4，结果 3）"
    assert group.rows("SELECT referral_id, handling, result FROM referral_rating") == [(2, 4, 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/评价 办理 5 结果 4", "请写出报送编号"),
        ("/评价 #1 5", "请分别为「办理」和「结果」打分"),
        ("/评价 #1 办理 5", "请分别为「办理」和「结果」打分"),
        ("/评价 #1 办理 6 结果 4", "评分是 1 到 5 的整数"),
        ("/评价 #1 办理 0 结果 4", "评分是 1 到 5 的整数"),
        ("/评价 #1 办理 5 办理 4", "「办理」只能打一次分"),
        ("/评价 #9 办理 5 结果 4", "本群没有报送 #9"),
    ],
)
async def test_a_malformed_rating_is_explained_and_changes_nothing(
    group: Group, text: str, expected: str
) -> None:
    await replied_and_evaluating(group)

    answer = await group.answer("张三", text)

    assert expected in answer
    assert group.count("referral_rating") == 0


async def test_statistics_are_for_the_secretary_and_moderator(group: Group) -> None:
    await replied_and_evaluating(group)

    by_member = await group.answer("张三", "/统计")
    bad_year = await group.answer("秘书", "/统计 明年", role=Role.SECRETARY)
    this_year = await group.answer(MODERATOR, "/统计")

    assert "/统计 仅限主持人、秘书使用" in by_member
    assert "请写年份，如 /统计 2026" in bad_year
    assert this_year.startswith("**2026 年协商工作统计（群1）**")
    assert "报送 2 件（意见建议 2 条），已答复 1 件，待答复 1 件" in this_year


async def test_statistics_with_a_workbook_follow_as_an_excel_file(group: Group) -> None:
    await replied_and_evaluating(group)

    answer = await group.answer("秘书", "/统计 2026 表格", role=Role.SECRETARY)
    seen = await group.group_sees()

    assert answer.startswith("**2026 年协商工作统计（群1）**")
    [sent] = [m for m in group.sender.sent if m.file and m.file.source == "chat"]
    assert sent.file is not None
    assert sent.file.name == "协商工作统计-群1-2026.xlsx"
    # Where a platform takes no files, the text points to the console's statistics page.
    assert seen[-1] == (
        "统计表格（Excel）请在协商助手后台的统计页面导出：http://127.0.0.1:8080/console/stats?year=2026"
    )
    [(content,)] = group.rows("SELECT content FROM chat_file WHERE id = :id", id=sent.file.id)
    sheet = load_workbook(io.BytesIO(bytes(content))).active
    assert sheet is not None
    cells = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert any("报送" in cell for cell in cells)

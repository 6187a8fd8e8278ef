"""Every command answers malformed input with its usage line and changes nothing."""

from __future__ import annotations

import pytest

from bot.core.dispatcher import Status
from storage.enums import Role
from tests.support import MODERATOR, Group

STATE_TABLES = (
    "consultation",
    "stage_change",
    "opinion",
    "second",
    "poll",
    "ballot",
    "member_role",
)

MALFORMED = [
    (MODERATOR, "/协商 阶段", "用法：/协商 阶段 <阶段名称|下一步>"),
    (MODERATOR, "/协商 阶段 第九步", "没有「第九步」这个阶段"),
    (MODERATOR, "/协商 开始 " + "长" * 201, "主题最多 200 字"),
    (MODERATOR, "/协商", "/协商 的用法"),
    (MODERATOR, "/协商 飞起来", "/协商 的用法"),
    ("张三", "/意见", "用法：/意见 <内容>"),
    ("张三", "/建议    ", "用法：/建议 <内容>"),
    ("张三", "/附议", "用法：/附议 #编号"),
    ("张三", "/附议 第一条", "无法识别编号"),
    ("张三", "/撤回 #x", "用法：/撤回 #编号"),
    (MODERATOR, "/投票 只有问题", "至少两个选项"),
    (MODERATOR, "/投票 问题 | 一个选项", "至少两个选项"),
    (MODERATOR, "/投票 问题 | 甲 | 甲", "选项不能重复"),
    (MODERATOR, "/投票 问题 | 甲 | 乙 截止 明天吃饭", "无法识别时间"),
    (MODERATOR, "/投票 问题 | 甲 | 乙 截止 25:00", "无法识别时刻"),
    (MODERATOR, "/投票 问题 " + "".join(f"| 项{i} " for i in range(21)), "选项最多 20 个"),
    ("张三", "/投", "用法：/投 [#投票编号] <序号…>"),
    ("张三", "/投 9", "没有第 9 项"),
    ("张三", "/投 赞成", "没有「赞成」这个选项"),
    ("张三", "/投 1 2", "单选，只能选一项"),
    (MODERATOR, "/结束投票 #a", "用法：/结束投票"),
    ("张三", "/结果 #1 #2", "只能写一个编号"),
    ("张三", "/不存在的命令", "未知命令"),
]


@pytest.mark.parametrize(
    ("who", "text", "expected"), MALFORMED, ids=[t[:12] for _, t, _ in MALFORMED]
)
async def test_malformed_command_gets_usage_and_changes_nothing(
    group: Group, who: str, text: str, expected: str
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")
    await group.say("李四", "/意见 夜市很好")
    before = {table: group.rows(f"SELECT * FROM {table} ORDER BY id") for table in STATE_TABLES}

    outcome = await group.say(who, text)

    assert expected in "\n".join(outcome.replies)
    assert outcome.status in (Status.USAGE, Status.REFUSED)
    after = {table: group.rows(f"SELECT * FROM {table} ORDER BY id") for table in STATE_TABLES}
    assert after == before


GARBAGE = [
    "",
    "#",
    "#1",
    "#0 #99999",
    "#1 A",
    "x" * 300,
    "#1 办理 9 结果",
    "期限 99999天",
    "@",
    "|||",
]
# Commands that change what the sweep walks through are tested on their own.
UNSWEPT = {"协商 开始", "协商 阶段", "协商 结束"}


async def test_no_input_in_any_stage_makes_a_command_fail(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say("李四", "/建议 夜市很好")
    commands = [c for c in group.app.commands.commands if c.name not in UNSWEPT]
    for stage in (
        "选题定题",
        "制订方案",
        "组织调研",
        "开展协商",
        "报送意见",
        "办理反馈",
        "结果评价",
    ):
        await group.say(MODERATOR, f"/协商 阶段 {stage}")
        outcomes = await group.deliver(
            [
                group.message(MODERATOR, f"/{command.name} {junk}", role=role)
                for command in commands
                if command.stages is None or stage in command.stages
                for junk in GARBAGE
                for role in (Role.MODERATOR, Role.SECRETARY, Role.LIAISON)
            ]
        )
        failed = [o.command for o in outcomes if o.status is Status.ERROR]
        assert failed == [], stage

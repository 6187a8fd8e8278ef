"""/帮助 and /协商 状态 agree on what there is and what the sender can do now."""

from __future__ import annotations

from tests.support import Group


async def test_help_on_a_command_group_lists_its_sub_commands(group: Group) -> None:
    chinese = await group.answer("张三", "/帮助 协商")
    english = await group.answer("张三", "/help consult")

    assert "没有叫" not in chinese
    assert chinese.splitlines() == [
        "张三：/协商 的命令：",
        "/协商 开始 [主题]　开启一场协商（不写主题则从选题定题开始）（限主持人）",
        "/协商 阶段 <阶段名称|下一步>　进入七步中的另一阶段（限主持人）",
        "/协商 状态　查看协商进展",
        "/协商 结束　结束本场协商（同时结束进行中的投票）（限主持人）",
        "发送 /帮助 <命令> 查看某个命令的说明。",
    ]
    assert english.splitlines()[1:] == chinese.splitlines()[1:]


async def test_help_on_a_command_with_sub_commands_names_them_too(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 选题")

    assert answer.splitlines()[:2] == [
        "张三：/选题 <议题>　提出协商议题",
        "在「选题定题」阶段可用。",
    ]
    assert "相关命令：\n/选题 投票 [#编号…]" in answer


async def test_help_on_a_sub_command_written_without_its_space(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 /协商状态")

    assert answer == "张三：/协商 状态　查看协商进展"


async def test_help_on_something_unknown_still_says_so(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 飞")

    assert answer == "张三：没有叫「飞」的命令。发送 /帮助 查看全部命令。"

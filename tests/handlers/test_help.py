"""/帮助 and /协商 状态 agree on what there is and what the sender can do now."""

from __future__ import annotations

from bot.core.dispatcher import Status
from storage.enums import Role
from tests.support import MODERATOR, Group


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

    assert answer == "张三：/协商 状态　查看协商进展\n也可写作：/consult status"


async def test_help_says_a_command_to_the_bot_needs_no_slash(group: Group) -> None:
    answer = await group.answer("张三", "帮助")  # itself typed without its slash

    assert answer.endswith("@协商助手 时，命令前的 / 可以不写。")


async def test_help_on_a_command_lists_every_english_spelling(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 suggestion")

    assert answer.splitlines()[-1] == "也可写作：/suggest、/suggestion"


async def test_help_on_something_unknown_still_says_so(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 飞")

    assert answer == "张三：没有叫「飞」的命令。发送 /帮助 查看全部命令。"


async def test_the_moderators_status_lists_what_only_the_moderator_can_do_now(
    group: Group,
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    moderator = await group.answer(MODERATOR, "/协商 状态")
    member = await group.answer("张三", "/协商 状态")
    secretary = await group.answer("秘书", "/协商 状态", role=Role.SECRETARY)

    can = moderator.split("你现在可以：\n")[1].splitlines()
    assert can[0] == "/意见 <内容>　发表意见"
    assert "/协商 阶段 下一步　进入第 5 步「报送意见」" in can
    assert any(line.startswith("/投票 <问题> | 选项 | 选项") for line in can)
    assert "/结束投票 [#投票编号]　结束投票并公布结果" in can
    assert "/协商 结束　结束本场协商（同时结束进行中的投票）" in can
    assert "/投票" not in member
    assert "/协商 阶段" not in member
    assert "/纪要　生成会议纪要（每次保存为新版本）" in secretary
    assert "\n/反馈 #报送编号" in secretary
    assert "\n/统计 [年份|全部]" in secretary
    assert "/投票" not in secretary
    assert "/协商 开始" not in moderator  # one is open already


async def test_the_liaisons_status_offers_the_reply(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    status = await group.answer("联络员", "/协商 状态", role=Role.LIAISON)

    assert (
        status.split("你现在可以：\n")[1]
        .splitlines()[-1]
        .startswith("/反馈 #报送编号 <A|B|C|未采纳> <答复内容>")
    )


async def test_the_step_on_is_not_offered_before_the_topic_is_settled(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")

    status = await group.answer(MODERATOR, "/协商 状态")

    assert "/定题 <#选题编号|议题>　直接确定协商议题" in status
    assert "/协商 阶段 下一步" not in status
    assert "/协商 阶段 <阶段名称|下一步>　进入七步中的另一阶段" in status


async def test_status_with_no_consultation_is_an_answer_with_how_to_start(group: Group) -> None:
    listed = await group.answer("张三", "/帮助")
    member = await group.say("张三", "/协商 状态")
    moderator = await group.say(MODERATOR, "/协商 状态")

    assert "/协商 状态　查看协商进展" in listed
    assert (member.status, member.replies) == (
        Status.OK,
        (
            "张三：本群当前没有进行中的协商。"
            "主持人可发送 /协商 开始 [主题] 开启（不写主题则先选题）。",
        ),
    )
    assert (moderator.status, moderator.replies) == (
        Status.OK,
        ("主持人：本群当前没有进行中的协商。发送 /协商 开始 [主题] 开启（不写主题则先选题）。",),
    )
    assert group.rows("SELECT outcome FROM inbound_event WHERE command = '协商 状态'") == [
        ("ok",),
        ("ok",),
    ]

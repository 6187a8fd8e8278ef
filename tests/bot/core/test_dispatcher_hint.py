"""Plain text to the bot outside the speaking stage: the sender learns it was not kept,
why, and what the stage lets them do instead."""

from __future__ import annotations

from bot.core.dispatcher import Status
from storage.enums import Role
from tests.support import MODERATOR, Group


async def in_topic_stage(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")
    await group.group_sees()


async def test_a_remark_while_choosing_the_topic_says_it_was_not_kept_and_what_to_do(
    group: Group,
) -> None:
    await in_topic_stage(group)

    outcome = await group.say("李委员", "选题阶段随便说一句")

    assert outcome.status is Status.HINT
    assert outcome.replies == (
        "李委员：这句话未记录：现在是「选题定题」阶段，发言从「开展协商」阶段开始记录。"
        "现在可以：\n/选题 <议题>　提出协商议题",
    )
    assert group.count("opinion") == 0


async def test_the_moderator_is_told_the_moderators_commands_of_the_stage(group: Group) -> None:
    await in_topic_stage(group)

    answer = await group.answer(MODERATOR, "大家先想想议题")

    commands = answer.splitlines()[1:]
    assert len(commands) == 3
    assert commands[0] == "/选题 <议题>　提出协商议题"
    assert commands[1].startswith("/选题 投票 [#编号…]")
    assert commands[2] == "/定题 <#选题编号|议题>　直接确定协商议题"


async def test_after_the_speaking_stage_the_remark_is_not_kept_either(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/协商 阶段 报送意见")

    member = await group.answer("张三", "还想补充一点")
    secretary = await group.answer("秘书", "报送函写好了", role=Role.SECRETARY)

    assert member == (
        "张三：这句话未记录：现在是「报送意见」阶段，发言只在「开展协商」阶段记录。"
        "发送 /帮助 查看现在能做什么。"
    )
    assert secretary.splitlines()[1].startswith("/报送 #编号… <主办单位>")
    assert group.count("opinion") == 0


async def test_with_no_consultation_open_the_remark_is_told_so(group: Group) -> None:
    outcome = await group.say("张三", "电梯什么时候装？")

    assert (outcome.status, outcome.replies) == (
        "hint",
        (
            "张三：这句话未记录：本群当前没有进行中的协商。"
            "主持人可发送 /协商 开始 [主题] 开启（不写主题则先选题）。",
        ),
    )
    assert group.count("opinion") == 0


async def test_the_same_hint_to_one_member_in_a_burst_is_said_once(group: Group) -> None:
    await in_topic_stage(group)

    await group.deliver([group.message("李委员", f"第{i}句") for i in range(3)])

    assert await group.group_sees() == [
        "李委员：这句话未记录：现在是「选题定题」阶段，发言从「开展协商」阶段开始记录。"
        "现在可以：\n/选题 <议题>　提出协商议题"
    ]

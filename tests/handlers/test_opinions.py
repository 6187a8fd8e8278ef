"""Opinions, suggestions, seconds and retraction, as members use them."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import ManualClock
from bot.core.dispatcher import Status
from tests.support import MODERATOR, Group


async def start(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")


async def test_opinions_and_suggestions_are_numbered_and_acknowledged(group: Group) -> None:
    await start(group)
    await group.group_sees()

    first = await group.answer("张三", "/意见 低层住户的采光要考虑")
    second = await group.answer("李四", "/建议 设立加装电梯专项补贴")

    assert first == "已记录张三的意见 #1"
    assert second == "已记录李四的建议 #2"
    assert group.rows("SELECT number, kind, text FROM opinion ORDER BY number") == [
        (1, "opinion", "低层住户的采光要考虑"),
        (2, "suggestion", "设立加装电梯专项补贴"),
    ]


async def test_a_burst_of_opinions_is_acknowledged_in_one_line(group: Group) -> None:
    await start(group)
    await group.group_sees()
    await group.deliver([group.message(f"委员{i}", f"/意见 第{i}条意见") for i in range(37)])

    assert await group.group_sees() == ["已记录 37 条意见 #1–#37"]


async def test_what_a_burst_says_of_its_own_opinions_finds_them(group: Group) -> None:
    # An opinion's number is taken with the rest of its batch just before the commit; a
    # later message of the same batch that names it, or counts it, still finds it.
    await start(group)
    burst = [
        ("张三", "/意见 电梯费用按楼层分摊"),
        ("李四", "/附议 #1"),
        ("王五", "/意见 先装试点楼栋"),
        ("王五", "/撤回 #2"),
        ("孙七", "/建议 设立专项补贴"),
        ("赵六", "/协商 状态"),
    ]

    outcomes = await group.deliver([group.message(who, text) for who, text in burst])

    assert [o.replies[0].splitlines()[0] for o in outcomes[:4]] == [
        "已记录张三的意见 #1",
        "已记录李四对 #1 的附议",
        "已记录王五的意见 #2",
        "王五：已撤回 #2。",
    ]
    assert outcomes[4].replies == ("已记录孙七的建议 #3",)
    assert "意见 1 条，建议 1 条" in outcomes[5].replies[0]
    assert group.rows(
        "SELECT number, kind, retracted_at IS NOT NULL FROM opinion ORDER BY number"
    ) == [(1, "opinion", False), (2, "opinion", True), (3, "suggestion", False)]
    assert group.count("second") == 1


async def test_seconds_folded_together_say_who_seconded_what(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.say("张三", "/意见 先装试点楼栋")
    await group.group_sees()

    await group.say("李四", "/附议 #1 #2")
    await group.say("王五", "/附议 #2")

    assert await group.group_sees() == ["已记录 3 次附议：李四 #1–#2；王五 #2"]


async def test_phone_style_commands_without_spaces(group: Group) -> None:
    await start(group)

    answer = await group.answer("张三", "／意见建议增加养老护理员培训补贴")

    assert answer == "已记录张三的意见 #1"
    assert group.rows("SELECT text FROM opinion") == [("建议增加养老护理员培训补贴",)]


async def test_seconding_counts_each_member_once(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.say("李四", "/附议 #1")

    again = await group.answer("李四", "/附议 #1")

    assert again == "李四：你已附议过 #1。"
    assert group.count("second") == 1


async def test_one_cannot_second_ones_own_opinion(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")

    answer = await group.answer("张三", "/附议 #1")

    assert "不能附议自己的意见" in answer
    assert group.count("second") == 0


async def test_seconding_several_is_all_or_nothing(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")

    answer = await group.answer("李四", "/附议 #1 #9")

    assert "没有找到 #9" in answer
    assert group.count("second") == 0


async def test_a_member_retracts_their_own_opinion(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 先试点一个小区")

    answer = await group.answer("张三", "/撤回 #1")
    second = await group.answer("李四", "/附议 #1")

    assert answer == "张三：已撤回 #1。"
    assert "#1 已被撤回" in second
    assert group.count("opinion", "retracted_at IS NOT NULL") == 1


async def test_a_member_cannot_retract_another_members_opinion(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 先试点一个小区")

    answer = await group.answer("李四", "/撤回 #1")

    assert "只能撤回自己的意见" in answer
    assert group.count("opinion", "retracted_at IS NULL") == 1


async def test_opinions_need_an_open_consultation(group: Group) -> None:
    answer = await group.answer("张三", "/意见 路灯太暗")

    assert "没有进行中的协商" in answer
    assert group.count("opinion") == 0


async def test_a_redelivered_opinion_is_kept_once(group: Group) -> None:
    await start(group)
    message = group.message("张三", "/意见 增加无障碍坡道")

    outcomes = await group.deliver([message, message])
    again = await group.app.dispatcher.dispatch(message)

    assert sorted(o.status for o in [*outcomes, again]) == [
        Status.DUPLICATE,
        Status.DUPLICATE,
        Status.OK,
    ]
    assert group.count("opinion") == 1


async def test_a_message_longer_than_the_limit_is_refused(group: Group) -> None:
    await start(group)

    answer = await group.answer("张三", "/意见 " + "很长" * 1500)

    assert "内容过长" in answer
    assert group.count("opinion") == 0


async def test_one_member_cannot_flood_the_group(group: Group, clock: ManualClock) -> None:
    await start(group)
    await group.group_sees()

    outcomes = await group.deliver([group.message("张三", f"/意见 第{i}条") for i in range(25)])
    seen = await group.group_sees()
    clock.advance(timedelta(minutes=1))
    later = await group.answer("张三", "/意见 一分钟后再说一条")

    assert [o.status for o in outcomes] == [Status.OK] * 20 + [Status.FLOODED] * 5
    assert seen == [
        "已记录 20 条意见 #1–#20\n\n张三：发送太频繁，这一分钟内的消息不再处理，请稍后再试。"
    ]
    assert later == "已记录张三的意见 #21"
    assert group.count("opinion") == 21
    assert group.count("inbound_event", "outcome = 'flooded'") == 5

"""Remarks (plain text to the bot) and members' 赞同 / 反对 / 弃权 on each other's statements."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import ManualClock
from bot.core.dispatcher import Status
from tests.support import MODERATOR, Group


async def start(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
    await group.group_sees()


async def test_plain_text_during_the_consultation_is_kept_as_a_remark(group: Group) -> None:
    await start(group)

    answer = await group.answer("张三", "一楼住户的采光怎么保障？")

    assert answer == "已记录张三的发言 #1"
    assert group.rows("SELECT number, kind, text FROM opinion") == [
        (1, "remark", "一楼住户的采光怎么保障？")
    ]


async def test_plain_text_before_any_consultation_only_gets_the_hint(group: Group) -> None:
    answer = await group.answer("张三", "一楼住户的采光怎么保障？")

    assert answer.startswith("张三：这句话未记录：本群当前没有进行中的协商。")
    assert group.count("opinion") == 0


async def test_members_mark_statements_and_the_burst_is_acknowledged_once(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.group_sees()

    await group.say("李四", "/赞同 #1")
    await group.say("王五", "/反对 #1")
    await group.say("赵六", "/弃权 #1")

    assert await group.group_sees() == [
        "已记录李四对 #1 的赞同\n已记录王五对 #1 的反对\n已记录赵六对 #1 的弃权"
    ]
    assert group.rows("SELECT value FROM stance ORDER BY value") == [(-1,), (0,), (1,)]


async def test_many_marks_fold_into_one_line(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.say("张三", "/意见 先试点一个小区")
    await group.group_sees()

    await group.deliver([group.message(f"委员{i}", f"/赞同 #{i % 2 + 1}") for i in range(30)])

    assert await group.group_sees() == ["已记录 30 次赞同 #1–#2"]
    assert group.count("stance") == 30


async def test_a_new_mark_replaces_the_earlier_one(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.say("李四", "/赞同 #1")

    changed = await group.answer("李四", "/反对 #1")
    again = await group.answer("李四", "/反对 #1")

    assert changed == "李四：已更改表态：#1 由赞同改为反对。"
    assert again == "李四：你已反对过 #1。"
    assert group.rows("SELECT value FROM stance") == [(-1,)]


async def test_no_mark_on_ones_own_or_a_retracted_or_a_missing_statement(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    await group.say("李四", "先试点一个小区")
    await group.say("李四", "/撤回 #2")

    own = await group.answer("张三", "/赞同 #1")
    retracted = await group.answer("张三", "/赞同 #2")
    missing = await group.answer("张三", "/反对 #9")

    assert own == "张三：不能对自己的发言表态（#1）。"
    assert retracted == "张三：#2 已被撤回，不能表态。"
    assert missing == "张三：没有找到 #9，请核对编号。"
    assert group.count("stance") == 0


async def test_a_duplicate_delivery_never_doubles_a_mark(group: Group) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    mark = group.message("李四", "/赞同 #1")

    outcomes = await group.deliver([mark, mark])
    again = await group.app.dispatcher.dispatch(mark)

    assert [o.status for o in outcomes] == [Status.OK, Status.DUPLICATE]
    assert again.status is Status.DUPLICATE
    assert group.rows("SELECT value FROM stance") == [(1,)]


async def test_the_later_mark_wins_whatever_the_arrival_order(
    group: Group, clock: ManualClock
) -> None:
    await start(group)
    await group.say("张三", "/意见 电梯费用按楼层分摊")
    earlier = group.message("李四", "/赞同 #1", at=clock.now())
    later = group.message("李四", "/反对 #1", at=clock.now() + timedelta(seconds=5))

    await group.app.dispatcher.dispatch(later)
    await group.app.dispatcher.dispatch(earlier)

    assert group.rows("SELECT value FROM stance") == [(-1,)]

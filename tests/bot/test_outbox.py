"""What reaches the group: in order, folded under load, within the limit, never dropped."""

from __future__ import annotations

from datetime import timedelta

from bot.args import NoArgs
from bot.clock import ManualClock
from bot.context import Context
from bot.messages import SendResult
from bot.router import CommandTable, Router
from handlers import ROUTERS
from tests.support import MODERATOR, Group, RecordingSender

cards = Router("cards")


@cards.command("卡片", usage="/卡片", summary="发一张不能合并的卡片")
async def post_card(ctx: Context, args: NoArgs) -> None:
    """Post a message kind the outbox must send on its own."""
    ctx.post(f"{ctx.member_name}的卡片", kind="markdown")


async def test_a_busy_group_gets_at_most_twenty_messages_a_minute(
    group: Group, clock: ManualClock
) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, cards])
    await group.deliver([group.message(f"委员{i:02d}", "/卡片") for i in range(30)])

    first_minute = await group.group_sees()
    clock.advance(timedelta(seconds=30))
    half_a_minute_later = await group.group_sees()
    clock.advance(timedelta(seconds=30))
    a_minute_later = await group.group_sees()

    assert len(first_minute) == 20
    assert half_a_minute_later == []
    assert a_minute_later == [f"委员{i:02d}的卡片" for i in range(20, 30)]
    assert group.count("outbox", "status = 'pending'") == 0


async def test_two_hundred_asking_for_help_at_once_see_it_once(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.group_sees()
    await group.deliver([group.message(f"委员{i:03d}", "/帮助") for i in range(200)])

    seen = await group.group_sees()

    assert len(seen) == 1
    assert seen[0].startswith("当前协商：「夜市」")
    assert group.count("outbox", "status = 'pending'") == 0


async def test_a_throttled_send_is_retried_later_in_order(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    sender.refusals.append(SendResult.retry("errcode 130101: send too fast", after=30))
    await group.say(MODERATOR, "/协商 开始 夜市")

    assert await group.group_sees() == []
    await group.say(MODERATOR, "/协商 状态")
    clock.advance(timedelta(seconds=10))
    assert await group.group_sees() == []  # the later reply does not overtake the first
    clock.advance(timedelta(seconds=30))
    seen = await group.group_sees()

    assert len(seen) == 1
    assert seen[0].startswith("协商开始：「夜市」")
    assert "阶段：开展协商" in seen[0]
    assert group.rows("SELECT attempts, last_error FROM outbox ORDER BY id LIMIT 1") == [
        (1, "errcode 130101: send too fast")
    ]


async def test_a_failing_platform_loses_nothing(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    for _ in range(8):
        sender.refusals.append(SendResult.retry("connection reset"))
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.deliver([group.message(f"委员{i}", f"/意见 第{i}条") for i in range(5)])

    for _ in range(12):
        clock.advance(timedelta(minutes=5))
        await group.group_sees()

    assert len(sender.sent) == 1
    assert sender.sent[0].body.startswith("协商开始")
    assert sender.sent[0].body.endswith("已记录 5 条意见 #1–#5")


async def test_replies_to_one_member_mention_them(group: Group, sender: RecordingSender) -> None:
    await group.say("张三", "/意见 没有协商时发言")
    await group.group_sees()

    assert sender.sent[-1].mentions == ("id-张三",)

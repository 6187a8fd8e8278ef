"""What reaches the group: in order, folded under load, within the limit, never dropped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.args import NoArgs
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.messages import Kind, OutgoingMessage, SendResult
from bot.core.router import CommandTable, Router
from bot.delivery.channels import SharedChannels
from bot.delivery.outbox import OutboxSender
from handlers import ROUTERS
from tests.support import MODERATOR, Group, RecordingSender

cards = Router("cards")


@cards.command("卡片", usage="/卡片", summary="发一张不能合并的卡片")
async def post_card(ctx: Context, args: NoArgs) -> None:
    """Post a message kind the outbox must send on its own."""
    ctx.post(f"{ctx.member_name}的卡片", markdown=True)


long_replies = Router("long")
PARAGRAPHS = ["第一段" + "甲" * 60, "第二段" + "乙" * 60, "第三段" + "丙" * 60]


@long_replies.command("长文", usage="/长文", summary="发一篇三段的长文")
async def post_long_text(ctx: Context, args: NoArgs) -> None:
    """Post a reply longer than one message of a small platform."""
    ctx.post("\n\n".join(PARAGRAPHS), markdown=True)


async def test_a_reply_too_long_for_the_platform_goes_in_parts_in_order_none_twice(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, long_replies])
    sender.fits = lambda message: len(message.body) <= 100  # type: ignore[attr-defined]
    take = sender.send
    tries = 0

    async def refuse_the_second(message: OutgoingMessage) -> SendResult:
        nonlocal tries
        tries += 1
        if tries == 2:
            return SendResult.retry("connection reset", after=30)
        return await take(message)

    sender.send = refuse_the_second  # type: ignore[method-assign]
    await group.say(MODERATOR, "/长文")
    first = await group.group_sees()
    [(rest,)] = group.rows("SELECT body FROM outbox WHERE status = 'pending'")
    clock.advance(timedelta(seconds=30))
    later = await group.group_sees()

    # The first part went, the second was refused: the row keeps the second and third in
    # its place, and they follow in order; nothing is sent twice.
    assert first == PARAGRAPHS[:1]
    assert rest == "\n\n".join(PARAGRAPHS[1:])
    assert later == PARAGRAPHS[1:]
    assert group.count("outbox", "status = 'pending'") == 0


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


async def test_a_platform_down_for_an_hour_gets_everything_after_in_order_within_the_limit(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, cards])
    sender.down = SendResult.retry("connection reset by peer")
    for minute in range(60):
        if minute < 45:
            await group.say(f"委员{minute:02d}", "/卡片")
        clock.advance(timedelta(minutes=1))
        assert await group.group_sees() == []

    sender.down = None
    per_minute = []
    for _ in range(10):
        clock.advance(timedelta(minutes=1))
        per_minute.append(await group.group_sees())

    assert [body for seen in per_minute for body in seen] == [
        f"委员{i:02d}的卡片" for i in range(45)
    ]
    assert max(len(seen) for seen in per_minute) <= 20
    assert group.count("outbox", "status = 'pending'") == 0


class SharedLog:
    """What reached the group, in order, whichever process sent it."""

    def __init__(self) -> None:
        self.bodies: list[str] = []


class ProcessSender(RecordingSender):
    """One bot process's platform connection, writing into the group's shared log."""

    def __init__(self, log: SharedLog) -> None:
        super().__init__()
        self.log = log

    async def send(self, message: OutgoingMessage) -> SendResult:
        result = await super().send(message)
        if result.ok and message.body:
            await asyncio.sleep(0)  # let the other process try to send meanwhile
            self.log.bodies.append(message.body)
        return result


async def test_two_processes_keep_one_groups_order_and_limit(
    backend: str, group: Group, clock: ManualClock
) -> None:
    if backend == "sqlite":
        pytest.skip("several processes share one database only on PostgreSQL")
    group.app.dispatcher.commands = CommandTable([*ROUTERS, cards])
    await group.app.outbox.stop()  # only the two processes below send
    await group.deliver([group.message(f"委员{i:02d}", "/卡片") for i in range(30)])
    shared = SharedLog()
    senders = [
        OutboxSender(
            database=group.app.database,
            adapters={"test": ProcessSender(shared)},
            settings=group.app.settings,
            clock=clock,
            channels=SharedChannels(group.app.database, group.app.settings),
        )
        for _ in range(2)
    ]

    await asyncio.gather(*(sender.flush() for sender in senders))
    first_minute = list(shared.bodies)
    clock.advance(timedelta(minutes=1))
    await asyncio.gather(*(sender.flush() for sender in senders))

    assert len(first_minute) == 20
    # Each card once, in order: neither process sent what the other had sent or was sending.
    assert shared.bodies == [f"委员{i:02d}的卡片" for i in range(30)]


async def test_a_scan_that_began_before_the_sender_stopped_starts_no_send(
    group: Group, clock: ManualClock
) -> None:
    # Such a send would run on after the app closed its database, with the conversation's
    # transaction left open (and its locks held) for as long as the process lives.
    await group.app.outbox.stop()  # only the sender below sends
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点吗？| 支持 | 反对")
    await group.say("委员00", "/投 1")  # the poll's card waits to be refreshed
    platform = RecordingSender()
    sender = OutboxSender(
        database=group.app.database,
        adapters={"test": platform},
        settings=group.app.settings,
        clock=clock,
    )
    sender.cards = group.app.outbox.cards

    scan = asyncio.create_task(sender.send_due(scan=True))
    await asyncio.sleep(0)  # the scan now waits for the database
    await sender.stop()
    await scan
    await sender.flush()  # waits for any send the scan started

    assert platform.sent == []
    assert group.count("outbox", "status = 'pending' AND kind = 'card_update'") == 1


def votes(message: OutgoingMessage) -> list[int]:
    """The votes of each option on the card a message shows."""
    assert message.card is not None
    return [option.votes for option in message.card.options]


async def test_a_burst_of_votes_refreshes_the_poll_card_once_an_interval_with_the_last_tally(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点吗？| 支持 | 反对")
    await group.say("委员00", "/投 1")
    await group.app.outbox.flush()
    refreshes = [m for m in sender.sent if m.kind is Kind.CARD_UPDATE]
    assert [votes(m) for m in refreshes] == [[1, 0]]  # the first vote shows at once

    for wave in range(3):  # three bursts within one refresh interval
        await group.deliver([group.message(f"委员{wave}{i}", "/投 2") for i in range(1, 10)])
        await group.app.outbox.flush()
    assert [m for m in sender.sent if m.kind is Kind.CARD_UPDATE] == refreshes

    clock.advance(timedelta(seconds=group.app.settings.outbox.update_interval_seconds))
    await group.app.outbox.flush()
    refreshes = [m for m in sender.sent if m.kind is Kind.CARD_UPDATE]
    assert [votes(m) for m in refreshes] == [[1, 0], [1, 27]]
    assert group.count("outbox", "status = 'pending' AND kind = 'card_update'") == 0


async def test_after_a_message_went_acknowledgements_gather_but_a_reply_goes_at_once(
    group: Group, clock: ManualClock, sender: RecordingSender
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.group_sees()
    await group.deliver([group.message(f"委员{i}", f"/意见 第{i}条") for i in range(2)])

    await group.app.outbox.flush()
    assert len(sender.sent) == 1  # the acknowledgements wait for more to gather
    clock.advance(timedelta(seconds=group.app.settings.outbox.ack_delay_seconds))
    await group.app.outbox.flush()
    assert sender.sent[-1].body.endswith("已记录 2 条意见 #1–#2")

    await group.deliver([group.message("委员9", "/意见 第9条")])
    await group.say("委员8", "/协商 状态")
    await group.app.outbox.flush()  # the clock has not moved since the last message went
    assert len(sender.sent) == 3
    assert sender.sent[-1].body.startswith("已记录委员9的意见 #3")
    assert "阶段：开展协商" in sender.sent[-1].body

"""Choosing the topic: members propose, a poll (or the moderator) decides."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import ManualClock
from tests.support import MODERATOR, Group


async def propose(group: Group, *topics: str) -> None:
    await group.say(MODERATOR, "/协商 开始")
    for i, topic in enumerate(topics):
        await group.say(f"委员{i}", f"/选题 {topic}")


async def test_members_propose_topics_and_a_repeat_counts_once(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")
    await group.group_sees()
    await group.say("张三", "/选题 夜市延长营业时间")
    await group.say("李四", "/选题 老旧小区加装电梯")
    acks = await group.group_sees()

    repeat = await group.answer("王五", "/选题 夜市延长 营业时间")

    assert acks == ["已记录 2 个选题 #1–#2"]
    assert "已有相同的选题 #1「夜市延长营业时间」" in repeat
    assert group.rows("SELECT number, text FROM topic_proposal ORDER BY number") == [
        (1, "夜市延长营业时间"),
        (2, "老旧小区加装电梯"),
    ]


async def test_a_topic_that_begins_with_the_word_poll_is_a_proposal(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")
    await group.group_sees()
    await group.say("张三", "/选题 投票方式改革")

    seen = await group.group_sees()

    assert seen == ["已记录张三的选题 #1"]
    assert group.rows("SELECT number, text FROM topic_proposal") == [(1, "投票方式改革")]
    assert group.count("poll") == 0


async def test_the_winner_of_a_topic_poll_becomes_the_topic(group: Group) -> None:
    await propose(group, "夜市延长营业时间", "老旧小区加装电梯", "社区食堂")
    poll = await group.answer(MODERATOR, "/选题 投票")
    await group.say("张三", "/投 2")
    await group.say("李四", "/投 2")
    await group.say("王五", "/投 1")

    closing = (await group.say(MODERATOR, "/结束投票")).replies

    assert "投票 #1：选定本次协商的议题" in poll
    assert "2. 老旧小区加装电梯" in poll
    assert closing[0].startswith("投票 #1 结果")
    assert closing[1] == (
        "议题确定：「老旧小区加装电梯」（选题 #2，2 票）。"
        "主持人可发送 /协商 阶段 下一步 进入「制订方案」。"
    )
    assert group.rows("SELECT topic, stage FROM consultation") == [("老旧小区加装电梯", "topic")]


async def test_a_topic_poll_settles_the_topic_at_its_deadline(
    group: Group, clock: ManualClock
) -> None:
    await propose(group, "夜市延长营业时间", "社区食堂")
    await group.say(MODERATOR, "/选题 投票 截止 30分钟")
    await group.say("张三", "/投 1")

    clock.advance(timedelta(minutes=30))
    posted = await group.app.scheduler.run_due(clock.now())

    assert posted[1].startswith("议题确定：「夜市延长营业时间」")
    assert group.rows("SELECT topic FROM consultation") == [("夜市延长营业时间",)]


async def test_a_topic_poll_takes_a_clock_time_as_its_deadline(
    group: Group, clock: ManualClock
) -> None:
    await propose(group, "夜市延长营业时间", "社区食堂")  # the clock reads 09:00 in Shanghai

    poll = await group.answer(MODERATOR, "/选题 投票 #2 #1 截止 18:00")
    await group.say("张三", "/投 1")
    clock.advance(timedelta(hours=9))
    posted = await group.app.scheduler.run_due(clock.now())

    assert "投票 #1：选定本次协商的议题（单选，11月24日 18:00 截止）" in poll
    assert posted[1].startswith("议题确定：「社区食堂」（选题 #2，1 票）")
    assert group.rows("SELECT topic FROM consultation") == [("社区食堂",)]


async def test_a_tie_leaves_the_choice_to_the_moderator(group: Group) -> None:
    await propose(group, "夜市延长营业时间", "社区食堂")
    await group.say(MODERATOR, "/选题 投票")
    await group.say("张三", "/投 1")
    await group.say("李四", "/投 2")

    closing = (await group.say(MODERATOR, "/结束投票")).replies
    settled = await group.answer(MODERATOR, "/定题 #2")

    assert "未能选出议题（#1–#2 得票相同）" in closing[1]
    assert settled.startswith("议题确定：「社区食堂」（主持人）")
    assert group.rows("SELECT topic FROM consultation") == [("社区食堂",)]


async def test_the_moderators_choice_closes_the_topic_poll_and_stands_at_its_deadline(
    group: Group, clock: ManualClock
) -> None:
    await propose(group, "背街小巷改造", "菜市场提升")
    await group.say(MODERATOR, "/选题 投票 截止 1分钟")
    await group.say("张三", "/投 1")
    await group.say("李四", "/投 1")
    await group.group_sees()

    settled = (await group.say(MODERATOR, "/定题 #2")).replies
    clock.advance(timedelta(minutes=1))
    at_deadline = await group.app.scheduler.run_due(clock.now())

    assert settled[0] == (
        "议题确定：「菜市场提升」（主持人）。主持人可发送 /协商 阶段 下一步 进入「制订方案」。"
    )
    assert settled[1].startswith("投票 #1 结果：选定本次协商的议题")
    assert "共 2 人投票" in settled[1]
    assert settled[2] == "议题已确定为「菜市场提升」，投票 #1 的结果不改变议题。"
    assert at_deadline == []
    assert group.rows("SELECT topic FROM consultation") == [("菜市场提升",)]
    assert group.rows("SELECT number, status FROM poll") == [(1, "closed")]


async def test_no_topic_poll_once_the_topic_is_settled(group: Group) -> None:
    await propose(group, "背街小巷改造", "菜市场提升")
    await group.say(MODERATOR, "/定题 #2")

    answer = await group.answer(MODERATOR, "/选题 投票")

    assert "议题已确定：「菜市场提升」" in answer
    assert "/定题" in answer
    assert group.count("poll") == 0


async def test_an_ordinary_poll_does_not_choose_the_topic(group: Group) -> None:
    await propose(group, "夜市延长营业时间", "社区食堂")
    await group.say(MODERATOR, "/投票 今天先讨论哪个？| 夜市 | 食堂")
    await group.say("张三", "/投 1")

    closing = (await group.say(MODERATOR, "/结束投票")).replies

    assert len(closing) == 1
    assert group.rows("SELECT topic FROM consultation") == [("",)]


async def test_a_topic_poll_needs_two_proposals_and_the_moderator(group: Group) -> None:
    await propose(group, "夜市延长营业时间")

    by_member = await group.answer("张三", "/选题 投票")
    alone = await group.answer(MODERATOR, "/选题 投票")
    unknown = await group.answer(MODERATOR, "/选题 投票 #1 #7")

    assert "仅限主持人使用" in by_member
    assert "只有一个选题 #1，无需投票" in alone
    assert "没有选题 #7" in unknown
    assert group.count("poll") == 0

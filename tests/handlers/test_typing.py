"""Commands as members type them: without the slash when they @ the bot, with a colon,
misspelt."""

from __future__ import annotations

from tests.support import MODERATOR, Group


async def test_a_vote_typed_without_its_slash_to_the_bot_is_a_vote(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 是否支持？| 支持 | 反对")

    outcome = await group.say("张三", "投 1")

    assert outcome.command == "投"
    assert group.ballots() == [(1, [1])]


async def test_group_chatter_that_starts_with_a_command_word_is_left_alone(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 是否支持？| 支持 | 反对")

    outcome = await group.say("张三", "投 1", addressed=False)

    assert outcome.status == "ignored"
    assert group.ballots() == []


async def test_a_topic_proposed_without_the_slash(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")

    answer = await group.answer("张三", "选题 养老服务驿站建设")
    await group.group_sees()

    assert group.rows("SELECT text FROM topic_proposal") == [("养老服务驿站建设",)]
    assert answer == "已记录张三的选题 #1"


async def test_a_remark_that_starts_with_a_command_word_is_kept_as_a_remark(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    await group.say("张三", "反对 延长到23点，太吵了")

    assert group.rows("SELECT kind, text FROM opinion") == [("remark", "反对 延长到23点，太吵了")]


async def test_a_misspelt_command_gets_the_nearest_one(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    answer = await group.answer("张三", "/意建 夜市要配套公厕")

    assert answer.startswith("张三：未知命令。你是不是想用 /意见")
    assert group.count("opinion") == 0


async def test_an_opinion_after_a_colon_is_kept_without_it(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    await group.say("张三", "/意见：夜市要配套公厕")
    await group.say("李四", "/建议:设置分区")

    assert group.rows("SELECT text FROM opinion ORDER BY number") == [
        ("夜市要配套公厕",),
        ("设置分区",),
    ]


async def test_a_poll_closes_when_the_moderator_wrote_it_in_words(group: Group) -> None:
    # The test clock stands on Tuesday 24 November 2026, 09:00 in Shanghai.
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    await group.say(MODERATOR, "/投票 是否支持？| 支持 | 反对 截止 明天下午3点")
    await group.say(MODERATOR, "/投票 夜市几点收摊？| 22点 | 23点 匿名 截止 周五 18:00")
    seen = "\n".join(await group.group_sees())

    assert "是否支持？（单选，11月25日 15:00 截止）" in seen
    assert "夜市几点收摊？（单选，匿名，11月27日 18:00 截止）" in seen
    assert group.rows("SELECT anonymous FROM poll ORDER BY number") == [(False,), (True,)]


async def test_a_deadline_that_has_passed_changes_nothing(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    answer = await group.answer(MODERATOR, "/投票 是否支持？| 支持 | 反对 截止 昨天")

    assert "已过" in answer
    assert group.count("poll") == 0

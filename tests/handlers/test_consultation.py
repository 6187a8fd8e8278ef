"""Opening, following and closing a consultation."""

from __future__ import annotations

from tests.support import MODERATOR, Group


async def test_the_moderator_opens_a_consultation_in_the_consult_stage(group: Group) -> None:
    answer = await group.answer(MODERATOR, "/协商 开始 夜市延长营业时间")

    assert answer.startswith("协商开始：「夜市延长营业时间」")
    assert group.rows("SELECT topic, stage FROM consultation") == [("夜市延长营业时间", "consult")]
    assert group.rows("SELECT from_stage, to_stage FROM stage_change") == [(None, "consult")]


async def test_a_member_cannot_open_a_consultation(group: Group) -> None:
    answer = await group.answer("张三", "/协商 开始 夜市")

    assert "仅限主持人使用" in answer
    assert group.count("consultation") == 0


async def test_only_one_consultation_at_a_time(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")

    answer = await group.answer(MODERATOR, "/协商 开始 停车")

    assert "已有进行中的协商「夜市」" in answer
    assert group.count("consultation") == 1


async def test_status_shows_the_stage_and_what_was_gathered(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say("张三", "/意见 夜市噪音扰民")
    await group.say("李四", "/建议 设置降噪屏障")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")

    status = await group.answer("王五", "/协商 状态")

    assert "阶段：开展协商（第 4/7 步）" in status
    assert "意见 1 条，建议 1 条，2 位委员发言；投票 1 次" in status
    assert "进行中的投票 #1：延长到23点？" in status


async def test_status_and_the_closing_line_count_plain_remarks_too(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say("张三", "/意见 夜市噪音扰民")
    await group.say("李四", "一楼住户的采光怎么保障？")
    await group.say("王五", "摊位能不能往东挪一点")

    status = await group.answer("赵六", "/协商 状态")
    ending = await group.answer(MODERATOR, "/协商 结束")

    assert "意见 1 条，建议 0 条，发言 2 条，3 位委员发言；投票 0 次" in status
    assert "共收到意见 1 条、建议 0 条、发言 2 条，3 位委员发言。" in ending


async def test_ending_closes_open_polls_and_posts_their_results(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")
    await group.say("张三", "/投 1")

    replies = (await group.say(MODERATOR, "/协商 结束")).replies

    assert replies[0].startswith("投票 #1 结果")
    assert replies[1].startswith("协商「夜市」结束")
    assert group.count("consultation", "closed_at IS NOT NULL") == 1
    assert group.count("poll", "status = 'open'") == 0
    assert "没有进行中的协商" in await group.answer("张三", "/意见 还有一点")


async def test_help_lists_what_the_sender_may_do_now(group: Group) -> None:
    before = await group.answer("张三", "/帮助")
    await group.say(MODERATOR, "/协商 开始 夜市")
    member = await group.answer("张三", "/帮助")
    moderator = await group.answer(MODERATOR, "/help")

    assert "/意见" not in before
    assert "/意见 <内容>" in member
    assert "/投票" not in member
    assert "/投票 <问题>" in moderator
    assert "你的身份：委员、主持人" in moderator


async def test_help_explains_one_command(group: Group) -> None:
    answer = await group.answer("张三", "/帮助 投票")

    assert "/投票 <问题> | 选项 | 选项" in answer
    assert "限主持人使用" in answer


async def test_a_plain_message_to_the_bot_gets_a_hint(group: Group) -> None:
    answer = await group.answer("张三", "你好")

    assert answer == (
        "张三：这句话未记录：本群当前没有进行中的协商。"
        "主持人可发送 /协商 开始 [主题] 开启（不写主题则先选题）。"
    )

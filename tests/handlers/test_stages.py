"""The seven steps: the moderator moves the consultation on, each step enables its commands."""

from __future__ import annotations

from storage.enums import Role
from tests.support import MODERATOR, Group

STATE_TABLES = ("consultation", "stage_change", "opinion", "topic_proposal", "referral")


def snapshot(group: Group) -> dict[str, list[tuple[object, ...]]]:
    return {table: group.rows(f"SELECT * FROM {table} ORDER BY id") for table in STATE_TABLES}


async def test_opening_without_a_topic_starts_with_choosing_one(group: Group) -> None:
    answer = await group.answer(MODERATOR, "/协商 开始")

    assert answer.startswith("协商开始，第 1 步「选题定题」。")
    assert "/选题 <议题>" in answer
    assert group.rows("SELECT topic, stage FROM consultation") == [("", "topic")]
    assert group.rows("SELECT from_stage, to_stage FROM stage_change") == [(None, "topic")]


async def test_the_moderator_moves_on_and_the_change_is_kept(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")

    announcement = await group.answer(MODERATOR, "/协商 阶段 下一步")

    assert announcement.startswith("协商「夜市延长营业时间」进入第 5 步「报送意见」（主持人，")
    assert announcement.splitlines()[1:] == [
        "本阶段可用：",
        "秘书：/报送 /纪要",
        "发送 /帮助 <命令> 查看用法。",
    ]
    assert group.rows(
        "SELECT s.from_stage, s.to_stage, m.name FROM stage_change s "
        "JOIN member m ON m.id = s.changed_by ORDER BY s.id"
    ) == [(None, "consult", "主持人"), ("consult", "refer", "主持人")]
    assert group.rows("SELECT stage FROM consultation") == [("refer",)]


async def test_a_stage_can_be_named_or_numbered(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")

    await group.say(MODERATOR, "/协商 阶段 结果评价")
    after_name = group.rows("SELECT stage FROM consultation")
    await group.say(MODERATOR, "/协商 阶段 第2步")

    assert after_name == [("evaluate",)]
    assert group.rows("SELECT stage FROM consultation") == [("plan",)]


async def test_the_topic_must_be_chosen_before_leaving_the_first_step(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")

    answer = await group.answer(MODERATOR, "/协商 阶段 下一步")

    assert "议题还没有确定" in answer
    assert group.rows("SELECT stage FROM consultation") == [("topic",)]
    assert group.count("stage_change") == 1


async def test_there_is_no_step_after_the_last(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/协商 阶段 结果评价")

    answer = await group.answer(MODERATOR, "/协商 阶段 下一步")

    assert "已是最后一步「结果评价」" in answer
    assert group.count("stage_change") == 2


async def test_a_member_cannot_move_the_consultation(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    before = snapshot(group)

    answer = await group.answer("张三", "/协商 阶段 下一步")

    assert "/协商 阶段 仅限主持人使用" in answer
    assert snapshot(group) == before


async def test_a_command_of_another_stage_says_when_it_can_be_used(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")
    before = snapshot(group)

    opinion = await group.answer("张三", "/意见 夜市太吵")
    referral = await group.answer("秘书", "/报送 #1 市民政局", role=Role.SECRETARY)

    assert "/意见 在「开展协商」阶段可用，当前是「选题定题」阶段" in opinion
    assert "/报送 在「报送意见」阶段可用，当前是「选题定题」阶段" in referral
    assert snapshot(group) == before


async def test_help_and_status_say_what_can_be_done_in_this_stage(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始")
    await group.say("张三", "/选题 夜市延长营业时间")

    help_text = await group.answer("张三", "/帮助")
    status = await group.answer("张三", "/协商 状态")

    assert "当前协商：（议题待定），选题定题阶段。" in help_text
    assert "/选题 <议题>" in help_text
    assert "/意见" not in help_text
    assert "阶段：选题定题（第 1/7 步）" in status
    assert "#1 夜市延长营业时间" in status
    assert "你现在可以：\n/选题 <议题>　提出协商议题" in status
    assert "/选题 投票" not in status  # the moderator's, not 张三's


async def test_entering_the_reply_stage_names_what_each_role_can_do(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/协商 阶段 报送意见")

    announcement = await group.answer(MODERATOR, "/协商 阶段 办理反馈")

    assert announcement.splitlines()[1:] == [
        "本阶段可用：",
        "所有人：/督办",
        "主持人：/重办",
        "秘书：/反馈 /重办 /签批 /发文 /纪要",
        "部门联络员：/反馈",
        "发送 /帮助 <命令> 查看用法。",
    ]

"""Who has not voted, reminded with an @; results hidden until the close; @ that names a
member."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.core.clock import ManualClock
from bot.core.messages import Kind, Mention
from bot.core.views import PollView
from storage.enums import Role
from tests.support import MODERATOR, Group, RecordingSender

POLL = "/投票 夜市延长到23点？| 支持 | 反对"


async def members_in_the_group(group: Group, *names: str) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    for name in names:
        await group.say(name, f"/意见 {name}觉得可以")


async def test_a_nudge_ats_exactly_those_who_have_not_voted(
    group: Group, sender: RecordingSender
) -> None:
    await members_in_the_group(group, "张三", "李四", "王五")
    await group.say(MODERATOR, POLL + " 截止 2小时")
    await group.say("张三", "/投 1")
    await group.say(MODERATOR, "/投 2")
    await group.group_sees()

    await group.say(MODERATOR, "/催投")
    seen = await group.group_sees()
    again = await group.answer(MODERATOR, "/催投 #1")

    [nudge] = [m for m in sender.sent if "未投" in m.body]
    assert nudge.body.startswith("投票 #1「夜市延长到23点？」还有 2 位委员未投")
    assert "@李四 @王五" in nudge.body
    assert "@张三" not in nudge.body
    assert set(nudge.mentions) == {"id-李四", "id-王五"}
    assert seen == [nudge.body]
    assert "一小时内已提醒过" in again


async def test_an_anonymous_poll_is_nudged_by_count_and_ats_never_by_choice(
    group: Group, sender: RecordingSender, clock: ManualClock
) -> None:
    await members_in_the_group(group, "张三", "李四", "王五")
    await group.say(MODERATOR, POLL + " 匿名")
    await group.say("张三", "/投 2")
    await group.say("李四", "/投 1")
    await group.group_sees()

    await group.say(MODERATOR, "/催投")
    await group.group_sees()
    clock.advance(timedelta(hours=1))
    await group.say("王五", "/投 1")
    late = await group.answer(MODERATOR, "/催投")

    [nudge] = [m for m in sender.sent if "未投" in m.body]
    assert "还有 2 位委员未投" in nudge.body
    assert "：@主持人 @王五。" in nudge.body
    assert not any(word in nudge.body for word in ("支持", "反对", "张三", "李四"))
    # An hour on, 王五 has voted: only the moderator is left.
    assert "还有 1 位委员未投" in late
    assert "@主持人。" in late
    assert "王五" not in late


async def test_the_reminder_goes_out_before_the_deadline_on_its_own(
    group: Group, sender: RecordingSender, clock: ManualClock
) -> None:
    await members_in_the_group(group, "张三", "李四")
    await group.say(MODERATOR, POLL + " 截止 2小时")
    await group.say("张三", "/投 1")
    await group.group_sees()

    reminded = await group.app.scheduler.run_due(clock.advance(timedelta(minutes=91)))
    closed = await group.app.scheduler.run_due(clock.advance(timedelta(minutes=30)))

    assert len(reminded) == 1
    assert "还有 2 位委员未投" in reminded[0]  # 李四 and the moderator
    assert "@李四" in reminded[0]
    assert closed[0].startswith("投票 #1 结果")


async def test_hidden_results_show_only_the_number_of_ballots_until_the_close(
    group: Group, sender: RecordingSender
) -> None:
    await members_in_the_group(group, "张三", "李四")
    await group.say(MODERATOR, POLL + " 隐藏结果")
    await group.say("张三", "/投 1")
    await group.say("李四", "/投 1")
    await group.group_sees()

    during = await group.answer("王五", "/结果")
    cards = [m.card for m in sender.sent if m.kind in (Kind.CARD, Kind.CARD_UPDATE) and m.card]
    await group.say(MODERATOR, "/结束投票")
    after = await group.group_sees()

    assert "已有 2 人投票，结果在投票结束后公布" in during
    assert "支持" not in during
    open_views = [view for view in cards if isinstance(view, PollView)]
    assert open_views
    assert all(o.votes == 0 and o.share_text == "" for v in open_views for o in v.options)
    assert open_views[-1].voters == 2
    assert "结束后公布结果" in open_views[-1].traits
    result = "\n".join(after)
    assert "投票 #1 结果：夜市延长到23点？" in result
    assert "2 · 100%" in result


async def test_attending_at_a_member_records_that_member(
    group: Group, sender: RecordingSender
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say("王明", "大家好")  # the group knows 王明 once he has written
    record = replace(
        group.message("秘书", "/出席 @王明 市民政局 副局长", role=Role.SECRETARY),
        mentions=(Mention(user_id="id-王明", name="王明"),),
    )

    outcome = await group.app.dispatcher.dispatch(record)
    await group.say("王明", "/意见 夜市要安排城管值守")
    status = await group.answer("秘书", "/出席", role=Role.SECRETARY)
    seen = await group.group_sees()

    [(person,)] = group.rows("SELECT person_id FROM guest_attendance")
    [(wang,)] = group.rows("SELECT id FROM member WHERE user_id = 'id-王明'")
    assert person == wang
    assert outcome.replies == (
        "秘书：已记录出席：王明（市民政局 副局长）",
        "欢迎王明出席本次协商。",
    )
    welcome = next(m for m in sender.sent if "欢迎王明" in m.body)
    assert "id-王明" in welcome.mentions
    assert "王明（市民政局副局长）" in status or "王明" in status
    assert any("欢迎王明出席" in text for text in seen)

"""Remarks (plain text to the bot) and members' 赞同 / 反对 / 弃权 on each other's statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.core.clock import ManualClock
from bot.core.dispatcher import Outcome, Status
from bot.core.messages import Kind
from bot.core.views import StanceView
from tests.support import MODERATOR, Group, RecordingSender


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


async def speak(group: Group, *lines: tuple[str, str]) -> None:
    """Open the consultation and let members post opinions (numbered in this order)."""
    await start(group)
    for who, text in lines:
        await group.say(who, text)
    await group.group_sees()


STATEMENTS = (
    ("张三", "/意见 电梯费用按楼层分摊"),
    ("李四", "/建议 先试点一个小区"),
    ("王五", "/意见 低楼层住户给予补偿"),
    ("赵六", "/建议 由街道牵头协调"),
)


def stance_cards(sender: RecordingSender, kind: Kind = Kind.CARD) -> list[StanceView]:
    """The stance cards the bot sent (or refreshed), as it filled them when sending."""
    return [m.card for m in sender.sent if m.kind is kind and isinstance(m.card, StanceView)]


def dealt(outcome: Outcome) -> str | None:
    """The statement a click's answer deals the clicker next (`#2`), None when none is left."""
    assert outcome.answer is not None
    assert outcome.answer.deal is not None
    statement = outcome.answer.deal.statement
    return statement.ref if statement is not None else None


async def test_the_digest_deals_the_statements_with_the_fewest_marks(
    group: Group, sender: RecordingSender
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("钱七", "/赞同 #1 #3")
    await group.say("孙八", "/反对 #1")
    await group.say("孙八", "/弃权 #4")

    await group.say("周九", "/表态")
    seen = await group.group_sees()

    [card] = stance_cards(sender)
    assert [s.ref for s in card.statements] == ["#2", "#3", "#4", "#1"]
    assert card.lead is not None
    assert card.lead.line == "#2 李四（建议）：先试点一个小区"
    assert card.statements[3].marks == "赞同 1 · 反对 1 · 弃权 0"
    assert [b.label for b in card.buttons] == ["赞同", "反对", "弃权"]
    # Where cards are not shown, the same card reads as text.
    assert seen[-1].splitlines()[0] == "请对以下意见和建议表态（表态最少的在前）："
    assert "#2 李四（建议）：先试点一个小区　赞同 0 · 反对 0 · 弃权 0" in seen[-1]


async def test_a_button_click_and_the_typed_command_give_one_stance(group: Group) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")

    clicked = await group.app.dispatcher.dispatch(group.click("钱七", "stances:1", "agree", "2"))
    typed = await group.answer("钱七", "/赞同 #2")
    changed = await group.app.dispatcher.dispatch(group.click("钱七", "stances:1", "disagree", "2"))

    assert clicked.replies == ("已记录你对 #2 的赞同",)
    assert typed == "钱七：你已赞同过 #2。"
    assert changed.replies == ("已更改表态：#2 由赞同改为反对。",)
    assert group.rows(
        "SELECT opinion.number, stance.value FROM stance JOIN opinion"
        " ON opinion.id = stance.opinion_id"
    ) == [(2, -1)]


async def test_after_a_click_the_clicker_is_dealt_the_next_statement_they_have_not_marked(
    group: Group,
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("钱七", "/赞同 #3")  # marked before the card came
    await group.say("周九", "/表态")

    first = await group.app.dispatcher.dispatch(group.click("钱七", "stances:1", "agree"))
    second = await group.app.dispatcher.dispatch(group.click("钱七", "stances:1", "pass", "1"))

    # No statement in the click: the card's first, which everyone sees before clicking.
    assert first.replies == ("已记录你对 #1 的赞同",)
    assert dealt(first) == "#2"  # #3 is marked already
    assert dealt(second) == "#2"  # #1 changed, #2 still waits


async def test_an_author_is_never_dealt_their_own_statement(group: Group) -> None:
    await speak(group, ("张三", "/意见 电梯费用按楼层分摊"), ("李四", "/建议 先试点一个小区"))
    await group.say("周九", "/表态")

    own = await group.app.dispatcher.dispatch(group.click("张三", "stances:1", "agree"))
    done = await group.app.dispatcher.dispatch(group.click("张三", "stances:1", "agree", "2"))
    more = await group.app.dispatcher.dispatch(group.click("张三", "stances:1", "more"))

    assert own.replies == ("不能对自己的发言表态（#1），已换下一条。",)
    assert dealt(own) == "#2"
    assert dealt(done) is None  # nothing left for 张三
    assert more.replies == ("暂时没有新的发言可表态。",)
    assert group.rows("SELECT value FROM stance") == [(1,)]


@pytest.mark.parametrize("statement", ["", "²", "9" * 40, "${my_number}"])
async def test_a_click_that_names_no_usable_statement_marks_the_cards_first(
    group: Group, statement: str
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")

    outcome = await group.app.dispatcher.dispatch(
        group.click("钱七", "stances:1", "agree", statement)
    )
    odd_card = await group.app.dispatcher.dispatch(group.click("钱七", "stances:²", "agree"))

    assert outcome.replies == ("已记录你对 #1 的赞同",)
    assert odd_card.status is Status.REFUSED
    assert group.count("stance") == 1


async def test_a_click_delivered_twice_keeps_one_mark(group: Group) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")
    click = group.click("钱七", "stances:1", "agree", "2")

    outcomes = await group.deliver([click, click])

    assert [o.status for o in outcomes] == [Status.OK, Status.DUPLICATE]
    assert group.count("stance") == 1


async def test_clicks_refresh_the_digest_once_and_say_nothing_to_the_group(
    group: Group, sender: RecordingSender
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")
    await group.group_sees()

    await group.deliver([group.click(f"委员{i}", "stances:1", "agree", "2") for i in range(30)])
    seen = await group.group_sees()

    [update] = stance_cards(sender, Kind.CARD_UPDATE)
    assert seen == []
    assert [s.marks for s in update.statements if s.ref == "#2"] == ["赞同 30 · 反对 0 · 弃权 0"]


async def test_a_member_asking_again_soon_is_pointed_to_the_card(
    group: Group, clock: ManualClock
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")

    again = await group.answer("钱七", "/表态")
    moderator = await group.say(MODERATOR, "/表态")
    clock.advance(timedelta(minutes=6))
    later = await group.say("钱七", "/表态")

    assert again == "钱七：待表态的清单刚刚发过，请向上翻找；也可发送 /赞同 #编号 表态。"
    assert moderator.status is Status.OK
    assert later.status is Status.OK
    assert group.count("stance_digest") == 3


async def test_nothing_to_mark_and_cards_of_another_consultation(group: Group) -> None:
    await start(group)
    await group.say("张三", "随便说一句")  # a remark: marked by number, never dealt

    empty = await group.answer("周九", "/表态")
    stale = await group.app.dispatcher.dispatch(group.click("钱七", "stances:9", "agree", "1"))

    assert empty == "周九：还没有可以表态的意见或建议。"
    assert stale.status is Status.REFUSED
    assert stale.replies == (
        "这张卡片已失效，请发送 /表态 领取新的卡片，或发送 /赞同 #编号 表态。",
    )


async def test_cards_stop_taking_stances_when_the_consultation_moves_on(
    group: Group, sender: RecordingSender
) -> None:
    await speak(group, *STATEMENTS)
    await group.say("周九", "/表态")
    await group.say(MODERATOR, "/协商 阶段 下一步")
    await group.group_sees()

    late = await group.app.dispatcher.dispatch(group.click("钱七", "stances:1", "agree", "2"))
    view = group.app.cards.view_now  # the card as a click now reads it

    assert late.status is Status.REFUSED
    assert group.count("stance") == 0
    with Session(group.app.engine) as session:
        card = view(session, "stances:1")
    assert isinstance(card, StanceView)
    assert card.closed
    assert card.status == "表态已结束（协商已进入「报送意见」阶段）"

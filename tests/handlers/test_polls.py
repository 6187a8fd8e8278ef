"""Polls as a group runs them: one ballot per member, the latest vote wins, deadlines close."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import re
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.core.clock import ManualClock
from bot.core.dispatcher import Status
from bot.core.messages import Kind
from handlers.polls import SEEN_IN_GROUP
from tests.support import MODERATOR, Group, RecordingSender

POLL = "/投票 夜市延长到23点？| 支持 | 反对 | 弃权"


async def open_consultation(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")


def tally_from(result: str) -> dict[str, int]:
    """Read `支持 ███░░ 66 · 33%` lines back into counts."""
    counts = {}
    for line in result.splitlines():
        match = re.match(r"^(\S+)[\s　]+[█░]+ (\d+) · \d+%$", line)
        if match:
            counts[match.group(1)] = int(match.group(2))
    return counts


async def test_two_hundred_members_vote_once_each_whatever_the_delivery(
    group: Group, clock: ManualClock
) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    rng = random.Random(20261124)
    members = [f"委员{i:03d}" for i in range(200)]
    first = {m: rng.randint(1, 3) for m in members}
    changers = rng.sample(members, 50)
    final = dict(first) | {m: rng.randint(1, 3) for m in changers}

    start = clock.now()
    votes = [
        group.message(m, f"/投 {first[m]}", message_id=f"a-{m}", at=start + timedelta(seconds=i))
        for i, m in enumerate(members)
    ]
    changes = [
        group.message(
            m, f"／投{final[m]}", message_id=f"b-{m}", at=start + timedelta(minutes=5, seconds=i)
        )
        for i, m in enumerate(changers)
    ]
    redelivered = rng.sample(votes + changes, 25)
    delivery = votes + changes + redelivered
    rng.shuffle(delivery)  # a changed vote may arrive before the vote it replaces

    outcomes = await group.deliver(delivery)

    assert Counter(o.status for o in outcomes) == {Status.OK: 250, Status.DUPLICATE: 25}
    assert group.count("ballot") == 200
    expected = Counter(final.values())
    result = await group.answer(MODERATOR, "/结束投票")
    assert tally_from(result) == {"支持": expected[1], "反对": expected[2], "弃权": expected[3]}
    assert "共 200 人投票" in result


async def test_results_asked_in_the_same_burst_count_the_votes_before_them(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)

    outcomes = await group.deliver(
        [
            group.message("张三", "/投 1"),
            group.message("李四", "/投 2"),
            group.message("王五", "/结果"),
            group.message("赵六", "/投 1"),
        ]
    )

    assert tally_from("\n".join(outcomes[2].replies)) == {"支持": 1, "反对": 1, "弃权": 0}
    assert group.count("ballot") == 3


async def test_acknowledgements_of_a_burst_arrive_as_one_message(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.group_sees()
    await group.deliver([group.message(f"委员{i}", "/投 1") for i in range(37)])

    seen = await group.group_sees()

    assert seen == ["投票 #1：已记录 37 张选票"]


async def test_a_vote_can_be_changed_while_the_poll_is_open(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.say("张三", "/投 1")
    await group.say("张三", "/投 反对")

    result = await group.answer("李四", "/结果")

    assert tally_from(result) == {"支持": 0, "反对": 1, "弃权": 0}
    assert group.count("ballot") == 1


async def test_multiple_choice_takes_several_options(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, "/投票 优先改造哪些？| 照明 | 卫生间 | 停车 | 绿化 多选")
    await group.say("张三", "/投 1 3")
    await group.say("李四", "/投 3，4")

    result = await group.answer("王五", "/结果 #1")

    assert tally_from(result) == {"照明": 1, "卫生间": 0, "停车": 2, "绿化": 1}
    assert "多选，占比按投票人数计" in result


async def test_single_choice_refuses_two_options(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)

    answer = await group.answer("张三", "/投 1 2")

    assert "单选，只能选一项" in answer
    assert group.count("ballot") == 0


async def test_anonymous_ballots_keep_no_link_to_the_member(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL + " 匿名")
    await group.group_sees()
    await group.say("张三", "/投 2")
    seen = await group.group_sees()

    [(member_id, voter_key)] = group.rows("SELECT member_id, voter_key FROM ballot")
    assert member_id is None
    assert "张三" not in voter_key
    assert len(voter_key) == 64
    # The acknowledgement names nobody, and says the group saw a choice typed there.
    assert seen == [f"投票 #1：已收到 1 张选票{SEEN_IN_GROUP}"]


async def test_a_member_cannot_close_a_poll(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)

    answer = await group.answer("张三", "/结束投票")

    assert "仅限主持人使用" in answer
    assert group.count("poll", "status = 'open'") == 1


async def test_a_closed_poll_takes_no_more_ballots(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.say("张三", "/投 1")
    await group.say(MODERATOR, "/结束投票")

    answer = await group.answer("李四", "/投 2")

    assert "已结束" in answer
    assert group.count("ballot") == 1


async def test_results_stay_readable_after_the_consultation_ends(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    for who, choice in (("张三", 1), ("李四", 1), ("王五", 2)):
        await group.say(who, f"/投 {choice}")
    await group.say(MODERATOR, "/协商 结束")
    await group.group_sees()

    latest = await group.answer("赵六", "/结果")
    named = await group.answer("赵六", "/结果 #1")

    assert latest == named
    assert latest.startswith("投票 #1 结果：")
    assert tally_from(latest) == {"支持": 2, "反对": 1, "弃权": 0}
    assert "没有投票 #2" in await group.answer("赵六", "/结果 #2")


async def test_with_two_polls_open_the_vote_names_its_poll(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.say(MODERATOR, "/投票 要不要设摊位费？| 要 | 不要")

    unclear = await group.answer("张三", "/投 1")
    await group.say("张三", "/投 #2 2")

    assert "请写明投票编号" in unclear
    assert group.ballots() == [(2, [2])]


async def test_a_poll_closes_by_itself_at_its_deadline(group: Group, clock: ManualClock) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL + " 截止 30分钟")
    await group.say("张三", "/投 1")
    await group.say("李四", "/投 1")
    await group.group_sees()

    clock.advance(timedelta(minutes=29))
    assert await group.app.scheduler.run_due(clock.now()) == []
    clock.advance(timedelta(minutes=1))
    posted = await group.app.scheduler.run_due(clock.now())

    assert len(posted) == 1
    assert posted[0].startswith("投票 #1 结果")
    assert tally_from(posted[0])["支持"] == 2
    assert group.count("poll", "status = 'closed'") == 1
    assert "已结束" in await group.answer("王五", "/投 2")
    assert await group.app.scheduler.run_due(clock.now() + timedelta(hours=1)) == []


async def test_a_result_says_the_poll_closed_at_its_deadline(
    group: Group, clock: ManualClock
) -> None:
    await open_consultation(group)  # the clock reads 09:00 in Shanghai
    await group.say(MODERATOR, POLL + " 截止 30分钟")
    await group.say(MODERATOR, "/投票 要不要设摊位费？| 要 | 不要 截止 1小时")
    await group.say("张三", "/投 #1 1")

    clock.advance(timedelta(minutes=30))
    # At 09:30 poll #1 closes, and poll #2's non-voters are reminded (30 minutes before).
    fired = await group.app.scheduler.run_due(clock.now())
    at_deadline = next(text for text in fired if text.startswith("投票 #1"))
    reminder = next(text for text in fired if text.startswith("投票 #2"))
    asked_later = await group.answer("李四", "/结果 #1")
    by_hand = await group.answer(MODERATOR, "/结束投票 #2")

    assert at_deadline.splitlines()[-1] == "共 1 人投票，已于 11月24日 09:30 截止"
    assert len(fired) == 2
    assert reminder.startswith("投票 #2「要不要设摊位费？」还有")
    assert asked_later.splitlines()[-1] == "共 1 人投票，已于 11月24日 09:30 截止"
    assert by_hand.splitlines()[-1] == "共 0 人投票"


async def test_a_deadline_given_as_a_clock_time(group: Group, clock: ManualClock) -> None:
    await open_consultation(group)  # the clock reads 09:00 in Shanghai

    announcement = "\n".join((await group.say(MODERATOR, POLL + " 截止 18:30")).replies)

    assert "11月24日 18:30 截止" in announcement


@pytest.mark.parametrize(
    ("command", "question", "options", "traits"),
    [
        ("/投票 表决方式用哪种？| 记名 | 匿名", "表决方式用哪种？", ["记名", "匿名"], "单选"),
        ("/投票 截止日期定在哪天？| 周一 | 周五", "截止日期定在哪天？", ["周一", "周五"], "单选"),
        ("/投票 开几场？| 一场 | 多选", "开几场？", ["一场", "多选"], "单选"),
        ("/投票 怎么投？| 记名 | 匿名 多选", "怎么投？", ["记名", "匿名"], "多选"),
        (
            "/投票 延长吗？| 支持 | 反对 截止 30分钟 匿名",
            "延长吗？",
            ["支持", "反对"],
            "单选，匿名，11月24日 09:30 截止",
        ),
        (
            "/投票 延长吗？| 支持 | 反对 多选 截止18:00",
            "延长吗？",
            ["支持", "反对"],
            "多选，11月24日 18:00 截止",
        ),
    ],
)
async def test_flags_follow_the_last_option_and_never_take_an_option_or_the_question(
    group: Group, command: str, question: str, options: list[str], traits: str
) -> None:
    await open_consultation(group)

    announcement = await group.answer(MODERATOR, command)

    assert announcement.splitlines()[0] == f"投票 #1：{question}（{traits}）"
    assert announcement.splitlines()[1:3] == [f"{i}. {o}" for i, o in enumerate(options, 1)]
    assert group.rows("SELECT question FROM poll") == [(question,)]


async def test_a_card_platform_gets_the_poll_and_one_folded_tally_update(
    group: Group, sender: RecordingSender
) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.group_sees()
    [card] = [m for m in sender.sent if m.kind is Kind.CARD]
    await group.deliver([group.message(f"委员{i}", f"/投 {1 + i % 3}") for i in range(37)])
    await group.group_sees()

    updates = [m for m in sender.sent if m.kind is Kind.CARD_UPDATE]
    assert card.card is not None
    assert [o.text for o in card.card.options] == ["支持", "反对", "弃权"]
    assert [o.votes for o in card.card.options] == [0, 0, 0]
    assert card.body.startswith("投票 #1：夜市延长到23点？")  # the text for platforms without cards
    assert len(updates) == 1
    assert updates[0].card is not None
    assert [o.votes for o in updates[0].card.options] == [13, 12, 12]
    assert updates[0].card.voters == 37
    assert updates[0].card.closed is False


async def test_tally_updates_do_not_spend_the_groups_message_budget(
    group: Group, sender: RecordingSender, clock: ManualClock
) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    for i in range(25):  # 25 rounds of votes, each seen by the group separately
        await group.say(f"委员{i}", "/投 1")
        await group.group_sees()

    messages = [m for m in sender.sent if m.kind is not Kind.CARD_UPDATE]
    updates = [m for m in sender.sent if m.kind is Kind.CARD_UPDATE]
    assert len(messages) == 20  # the budget of the minute
    assert len(updates) == 25
    assert updates[-1].card is not None
    assert updates[-1].card.voters == 25


async def test_a_card_click_answers_the_clicker_not_the_group(
    group: Group, sender: RecordingSender
) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.group_sees()
    click = group.click("张三", "poll:1", "2")

    outcome = await group.app.dispatcher.dispatch(click)
    await group.say(MODERATOR, "/结束投票")
    late = await group.app.dispatcher.dispatch(group.click("李四", "poll:1", "1"))
    seen = await group.group_sees()

    assert outcome.replies == ("投票 #1：已记录张三的选票",)
    assert late.status is Status.REFUSED
    assert "已结束" in late.replies[0]
    assert len(seen) == 1
    assert seen[0].startswith("投票 #1 结果")  # nothing about either click
    assert group.ballots() == [(1, [2])]


async def test_a_click_naming_another_groups_poll_changes_nothing(
    group: Group, sender: RecordingSender
) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    elsewhere = Group(group.app, group.clock, sender, conversation="群2")
    await elsewhere.say(MODERATOR, "/协商 开始 另一个议题")

    outcome = await group.app.dispatcher.dispatch(elsewhere.click("张三", "poll:1", "1"))

    assert outcome.status is Status.REFUSED
    assert outcome.replies == ("这张卡片已失效，请在群里发送 /投 参加投票。",)
    assert group.count("ballot") == 0


async def test_a_changed_vote_is_acknowledged_as_changed_named_and_anonymous(group: Group) -> None:
    await open_consultation(group)
    await group.say(MODERATOR, POLL)
    await group.say(MODERATOR, "/投票 夜市要不要收摊位费？| 要 | 不要 匿名")
    await group.group_sees()

    await group.say("张三", "/投 #1 1")
    await group.say("李四", "/投 #2 1")
    first = await group.group_sees()
    await group.say("张三", "/投 #1 2")
    await group.say("李四", "/投 #2 2")
    changed = await group.group_sees()
    # Twice in one batch: the second replaces the first, which was new.
    outcomes = await group.deliver(
        [group.message("王五", "/投 #1 1"), group.message("王五", "/投 #1 3")]
    )

    assert first == ["投票 #1：已记录张三的选票\n" + f"投票 #2：已收到 1 张选票{SEEN_IN_GROUP}"]
    assert changed == ["投票 #1：张三已改投\n" + f"投票 #2：1 张选票已改投{SEEN_IN_GROUP}"]
    assert [o.replies for o in outcomes] == [
        ("投票 #1：已记录王五的选票",),
        ("投票 #1：王五已改投",),
    ]
    assert group.ballots() == [(1, [2]), (1, [3]), (2, [2])]


async def test_after_the_close_nothing_links_an_anonymous_ballot_to_its_member(
    group: Group, caplog: pytest.LogCaptureFixture
) -> None:
    # The whole database and the ballot secret in hand: after the close, no column of any
    # table, nor the log of the run, ties an anonymous ballot to whoever cast it.
    caplog.set_level(logging.DEBUG)
    await open_consultation(group)
    await group.say(MODERATOR, "/投票 谁来牵头？| 甲方案 | 乙方案 | 丙方案 匿名")
    await group.say(MODERATOR, "/投票 要不要收摊位费？| 要 | 不要")
    votes = {f"委员{i:02d}": 1 + i % 3 for i in range(10)}
    for name, choice in votes.items():
        await group.say(name, f"/投 #1 {choice}")
        await group.app.dispatcher.dispatch(group.click(name, "poll:1", str(choice)))
        await group.say(name, "/投 #2 1")
    await group.say(MODERATOR, "/结束投票 #1")
    await group.say(MODERATOR, "/结束投票 #2")
    await group.group_sees()

    ballots = group.rows(
        "SELECT id, voter_key, member_id, choices, cast_at FROM ballot WHERE poll_id = 1"
    )
    [(opened_at,)] = group.rows("SELECT opened_at FROM poll WHERE id = 1")
    members = dict(group.rows("SELECT user_id, id FROM member"))
    secret = b"test-ballot-key"
    # Keys the holder of the secret could compute for each member (see Context.voter_key).
    computable = {
        hmac.new(secret, f"1:{members['id-' + name]}".encode(), hashlib.sha256).hexdigest()
        for name in votes
    }
    assert len(ballots) == 10
    assert {key for _, key, _, _, _ in ballots}.isdisjoint(computable)
    assert {member for _, _, member, _, _ in ballots} == {None}
    assert {str(at) for *_, at in ballots} == {str(opened_at)}
    in_order = [json.loads(c) if isinstance(c, str) else c for _, _, _, c, _ in ballots]
    assert sorted(map(tuple, in_order)) == sorted((c,) for c in votes.values())
    # The messages that voted in poll 1 are kept as having come, and nothing of their choice.
    texts = [text for (text,) in group.rows("SELECT text FROM inbound_event")]
    assert not any(t.startswith(("/投 #1", "poll:1")) for t in texts)
    assert "/投 #2 1" in texts  # the named poll keeps its messages
    # No row of any table that names a voter (their user id, or their member id in a
    # column that refers to members) says anything of poll 1's choices.
    options = ("甲方案", "乙方案", "丙方案", "poll:1", "#1 1", "#1 2", "#1 3")
    for table in sa.inspect(group.app.engine).get_table_names():
        if table == "ballot":
            continue  # checked above: no key, member or time to go by
        with group.app.engine.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
        for row in rows:
            for name in votes:
                member = members["id-" + name]
                names_voter = any(
                    value == "id-" + name
                    or (
                        value == member and (column.endswith("member_id") or column.endswith("_by"))
                    )
                    for column, value in row.items()
                )
                if names_voter:
                    said = " ".join(str(value) for value in row.values())
                    assert not any(option in said for option in options), (table, dict(row))
    assert not any("poll:1" in record.getMessage() for record in caplog.records)

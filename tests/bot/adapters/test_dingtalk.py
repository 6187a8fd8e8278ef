"""DingTalk: a real `xieshang run` with the real SDK client, against a fake DingTalk.

Members @ the robot in a fake group; the test reads what reached the group, what the
robot's cards show, and (for the burst) what the database holds.
"""

from __future__ import annotations

import io
import json
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook

from bot.adapters.dingtalk.render import (
    PRIVATE_CARD_PARAMS,
    PRIVATE_STANCE_PARAMS,
    poll_card_params,
    stance_card_params,
    stance_private_view,
)
from bot.core.views import (
    Deal,
    PollOptionView,
    PollView,
    StanceButton,
    StanceView,
    StatementLine,
)
from storage.engine import normalize_url
from tests.fakes.bot import BotProcess
from tests.fakes.dingtalk import ROBOT_TOPIC, Card, FakeDingTalk, FakeGroup, Post, staff_id

ROOT = Path(__file__).resolve().parents[3]
MODERATOR = "王主任"
SECRETARY = "李秘书"
POLL = "/投票 夜市延长到23点？| 支持 | 反对 | 弃权"
TEMPLATE = "xieshang-poll.schema"
STATEMENT_TEMPLATE = "xieshang-statement.schema"


def bot_env(dingtalk: FakeDingTalk, url: str, **settings: str) -> dict[str, str]:
    """What `xieshang run` needs to use the fake DingTalk and the test's database."""
    return {
        **dingtalk.env(),
        "XIESHANG_DATABASE__URL": url,
        "XIESHANG_PLATFORMS__DINGTALK__THROTTLED_RETRY_SECONDS": "0.5",
        **{f"XIESHANG_{key.upper()}": value for key, value in settings.items()},
    }


@pytest.fixture(scope="module")
def dingtalk() -> Iterator[FakeDingTalk]:
    """One fake DingTalk for the module's conversations."""
    with FakeDingTalk(redeliver_after=2) as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(dingtalk: FakeDingTalk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One bot, with poll and stance cards (a card for each statement too), connected to
    the fake (each test talks in its own group)."""
    workdir = tmp_path_factory.mktemp("dingtalk-bot")
    env = bot_env(
        dingtalk,
        f"sqlite:///{workdir / 'xieshang.db'}",
        platforms__dingtalk__card_template_id=TEMPLATE,
        platforms__dingtalk__statement_card_template_id=STATEMENT_TEMPLATE,
        stances__statement_cards="true",
        # Named in config: the secretary asks for minutes, the moderator runs a single chat
        # (DingTalk says who is a group admin only in groups).
        roles__secretaries=json.dumps([f"dingtalk:{staff_id(SECRETARY)}"]),
        roles__moderators=json.dumps([f"dingtalk:{staff_id(MODERATOR)}"]),
        # Minutes on words alone: loading the sentence model would only slow the tests.
        minutes__vectors__enabled="false",
    )
    process = BotProcess(workdir, env).start()
    try:
        dingtalk.wait_connected()
        yield process
    finally:
        process.stop()


@pytest.fixture
def group(dingtalk: FakeDingTalk, bot: BotProcess) -> Iterator[FakeGroup]:
    """A fresh group with the robot in it; the bot's log is shown if the test fails."""
    yield dingtalk.group()
    assert bot.running, bot.log()


def tally_from(text: str) -> dict[str, int]:
    """Read `支持　███░░ 66 · 33%` lines back into counts."""
    counts = {}
    for line in text.splitlines():
        found = re.match(r"^(\S+?)[\s　]+[█░]+ (\d+) · \d+%$", line)
        if found:
            counts[found.group(1)] = int(found.group(2))
    return counts


def card_tally(card: Card) -> dict[str, int]:
    """The public tally a card shows."""
    return {row["text"]: int(row["votes"]) for row in json.loads(card.params["options"])}


def acknowledged_votes(posts: list[Post]) -> int:
    """How many votes the group was told were recorded (folded or one by one)."""
    folded = sum(int(n) for p in posts for n in re.findall(r"已记录 (\d+) 张选票", p.text))
    single = sum(len(re.findall(r"已记录\S+的选票", p.text)) for p in posts)
    return folded + single


def most_in_one_minute(posts: list[Post]) -> int:
    """The most messages that reached the group within any 60 seconds."""
    times = sorted(p.at for p in posts)
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


def rows(bot: BotProcess, query: str) -> list[tuple[object, ...]]:
    """What the bot's database holds."""
    with sqlite3.connect(bot.workdir / "xieshang.db") as database:
        return [tuple(row) for row in database.execute(query)]


def discuss(group: FakeGroup) -> None:
    """A consultation with a few opinions, in the stage where minutes may be asked for."""
    group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
    group.say_and_wait(MODERATOR, "/协商 阶段 开展协商", admin=True)
    group.say_and_wait("张三", "/意见 夜市延长到23点会影响周边居民休息")
    group.say_and_wait("李四", "/建议 设置降噪屏障并限制外放音响")
    group.say_and_wait("王五", "/意见 延长营业能带动就业和消费")


def test_the_minutes_reach_the_group_as_markdown_then_as_their_word_file(
    dingtalk: FakeDingTalk, bot: BotProcess, group: FakeGroup
) -> None:
    discuss(group)

    group.say(SECRETARY, "/纪要")
    posted = group.wait_for_file()

    [(consultation, number, docx)] = rows(
        bot, "SELECT consultation_id, number, docx FROM minutes_version ORDER BY id DESC LIMIT 1"
    )
    texts = list(group.texts())
    minutes = next(i for i, text in enumerate(texts) if text.startswith("### 会议纪要"))
    assert texts.index(posted.text) == minutes + 1  # right after the Markdown, in order
    assert posted.via == "openapi"
    assert posted.text == f"会议纪要-协商{consultation}-第{number}版.docx"
    assert posted.file_type == "docx"
    assert posted.file is not None
    assert posted.file.content == docx
    stored = Document(io.BytesIO(docx)).paragraphs
    received = Document(io.BytesIO(posted.file.content)).paragraphs
    assert [p.text for p in received] == [p.text for p in stored]
    assert "影响周边居民休息" in "\n".join(p.text for p in received)


def test_a_restart_between_upload_and_send_posts_the_file_once(
    dingtalk: FakeDingTalk, bot: BotProcess, group: FakeGroup
) -> None:
    discuss(group)
    dingtalk.refuse_file_sends(True)
    uploads = len(dingtalk.uploads)

    group.say(SECRETARY, "/纪要")
    dingtalk.wait_until(lambda: dingtalk.refused_file_sends >= 1, what="the file uploaded")
    bot.kill()  # uploaded and kept, not yet sent: the process dies
    dingtalk.refuse_file_sends(False)
    connected = len(dingtalk.connections)
    bot.start()
    dingtalk.wait_connected(connected + 1)
    posted = group.wait_for_file()

    assert len(dingtalk.uploads) == uploads + 1  # the kept media id was posted, not re-uploaded
    assert posted.file == dingtalk.uploads[-1]
    # The group's messages go in order: once this answer arrived, nothing else is waiting.
    group.say("张三", "/帮助")
    group.wait_for("你现在可以")
    assert len(group.files()) == 1
    assert sum(text.startswith("### 会议纪要") for text in group.texts()) == 1


def test_a_voice_message_in_a_single_chat_is_kept_as_its_transcript(
    dingtalk: FakeDingTalk, bot: BotProcess
) -> None:
    chat = dingtalk.single_chat("赵六")

    dingtalk.wait_acked([chat.speak("建议增加养老护理员培训补贴")])
    answer = chat.wait_for("没有进行中的协商")

    assert answer.via == "webhook"
    assert rows(
        bot, f"SELECT text, voice FROM inbound_event WHERE sender_id = '{chat.staff_id}'"
    ) == [("建议增加养老护理员培训补贴", 1)]


def test_statistics_as_a_workbook_reach_a_single_chat_as_an_excel_file(
    dingtalk: FakeDingTalk, bot: BotProcess
) -> None:
    chat = dingtalk.single_chat(SECRETARY)

    dingtalk.push(ROBOT_TOPIC, chat.message(SECRETARY, "/统计 2026 表格"))
    posted = dingtalk.wait_until(
        lambda: next((p for p in chat.posts() if p.msgtype == "file"), None), what="the file"
    )

    assert posted.conversation_id == f"user:{chat.staff_id}"  # the robot's one-to-one send
    assert posted.file_type == "xlsx"
    assert posted.text.endswith("-2026.xlsx")
    assert posted.file is not None
    workbook = load_workbook(io.BytesIO(posted.file.content))
    assert workbook.active is not None
    assert chat.wait_for("2026 年协商工作统计").via == "webhook"


def test_a_poll_card_in_a_single_chat_is_delivered_by_the_robot(
    dingtalk: FakeDingTalk, bot: BotProcess
) -> None:
    chat = dingtalk.single_chat(MODERATOR)
    dingtalk.wait_acked([dingtalk.push(ROBOT_TOPIC, chat.message(MODERATOR, "/协商 开始 夜市"))])

    dingtalk.push(ROBOT_TOPIC, chat.message(MODERATOR, POLL))
    card = chat.card()

    assert card.template_id == TEMPLATE
    assert json.loads(card.params["options"])[0]["text"] == "支持"


def test_a_member_is_answered_in_the_group_by_name(group: FakeGroup) -> None:
    group.say("张三", "/投 1")

    answer = group.wait_for("没有进行中的协商")

    assert answer.via == "webhook"
    assert answer.text.startswith("张三：")
    assert answer.at_user_ids == (staff_id("张三"),)


def test_a_group_admin_may_open_a_consultation_and_a_member_may_not(group: FakeGroup) -> None:
    group.say("李四", "/协商 开始 夜市延长营业时间")
    refused = group.wait_for("仅限主持人使用")
    group.say(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)

    opened = group.wait_for("协商开始")

    assert refused.text.startswith("李四：")
    assert f"主持人：{MODERATOR}" in opened.text


def test_a_throttled_reply_is_sent_again_until_it_arrives(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    dingtalk.throttle(2)
    group.say("张三", "/投 1")

    answer = group.wait_for("没有进行中的协商")

    assert answer.via == "webhook"
    assert dingtalk.throttled_answers >= 2


def test_a_reply_through_an_expired_webhook_goes_by_the_robots_group_send(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    message = group.message("张三", "/投 1")
    dingtalk.expire_webhooks()
    dingtalk.push(ROBOT_TOPIC, message)

    answer = group.wait_for("没有进行中的协商")

    assert answer.via == "openapi"
    assert ("POST", "/v1.0/robot/groupMessages/send") in dingtalk.requests


def test_a_webhook_past_its_expiry_time_is_not_even_tried(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    dingtalk.push(ROBOT_TOPIC, group.message("张三", "/投 1", webhook_expires_in_ms=-1000))

    answer = group.wait_for("没有进行中的协商")

    assert answer.via == "openapi"


def test_a_poll_is_a_card_and_a_click_replaces_the_members_earlier_vote(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
    group.say_and_wait(MODERATOR, POLL, admin=True)
    card = group.card()
    group.say_and_wait("张三", "/投 1")
    dingtalk.wait_until(lambda: card_tally(card)["支持"] == 1, what="张三's vote on the card")

    answer = dingtalk.click(card.card_id, staff_id("张三"), 2)

    assert card.template_id == TEMPLATE
    assert card.callback_type == "STREAM"
    assert answer["userPrivateData"]["cardParamMap"]["my_choice"] == "反对"
    dingtalk.wait_until(
        lambda: card_tally(card) == {"支持": 0, "反对": 1, "弃权": 0}, what="the new tally"
    )
    group.say("李四", "/结果 #1")
    assert "共 1 人投票" in group.wait_for("投票 #1（进行中）").text


def test_a_click_on_a_closed_poll_changes_nothing_and_says_so(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
    group.say_and_wait(MODERATOR, POLL, admin=True)
    card = group.card()
    dingtalk.click(card.card_id, staff_id("张三"), 1)
    group.say_and_wait(MODERATOR, "/结束投票", admin=True)
    dingtalk.wait_until(lambda: card.params["closed"] == "true", what="the card closed")

    answer = dingtalk.click(card.card_id, staff_id("李四"), 2)

    assert "已结束" in answer["userPrivateData"]["cardParamMap"]["notice"]
    assert "my_choice" not in card.private[staff_id("李四")]
    assert card.params["result"] == "结果：支持 得票最多（1 票），共 1 人投票"
    group.say("李四", "/结果 #1")
    final = group.wait_for("投票 #1 结果")
    assert tally_from(final.text) == {"支持": 1, "反对": 0, "弃权": 0}


def stances_of(bot: BotProcess, member: str) -> list[tuple[int, int]]:
    """(statement number, value) of the member's marks, as the bot's database holds them."""
    database = sqlite3.connect(bot.workdir / "xieshang.db")
    try:
        rows = database.execute(
            "SELECT opinion.number, stance.value FROM stance"
            " JOIN opinion ON opinion.id = stance.opinion_id"
            " JOIN member ON member.id = stance.member_id"
            " WHERE member.user_id = ? ORDER BY opinion.number",
            (staff_id(member),),
        ).fetchall()
    finally:
        database.close()
    return [(number, value) for number, value in rows]


def test_a_statement_card_click_and_the_typed_command_give_one_stance(
    dingtalk: FakeDingTalk, bot: BotProcess, group: FakeGroup
) -> None:
    group.say_and_wait(MODERATOR, "/协商 开始 老旧小区加装电梯", admin=True)
    group.say_and_wait("张三", "/意见 电梯费用按楼层分摊")
    card = group.card_titled("意见 #1")

    answer = dingtalk.press(card.card_id, staff_id("李四"), "agree")
    group.say("李四", "/赞同 #1")
    again = group.wait_for("李四：你已赞同过 #1")

    mine = answer["userPrivateData"]["cardParamMap"]
    assert card.template_id == STATEMENT_TEMPLATE
    assert card.params["statement"] == "#1 张三（意见）：电梯费用按楼层分摊"
    assert (mine["my_number"], mine["my_stance"]) == ("1", "赞同")
    assert mine["notice"] == "已记录你对 #1 的赞同"
    assert again.at_user_ids == (staff_id("李四"),)
    dingtalk.wait_until(
        lambda: card.params["marks"] == "赞同 1 · 反对 0 · 弃权 0", what="the mark on the card"
    )
    assert stances_of(bot, "李四") == [(1, 1)]


def test_the_digest_card_deals_each_clicker_the_statement_they_have_not_marked(
    dingtalk: FakeDingTalk, bot: BotProcess, group: FakeGroup
) -> None:
    group.say_and_wait(MODERATOR, "/协商 开始 老旧小区加装电梯", admin=True)
    for who, text in [
        ("张三", "电梯费用按楼层分摊"),
        ("李四", "先试点一个小区"),
        ("王五", "由街道协调"),
    ]:
        group.say_and_wait(who, f"/意见 {text}")
    group.say_and_wait("李四", "/反对 #1")
    group.say_and_wait("赵六", "/表态")
    digest = group.card_titled("请对这 3 条意见和建议表态")
    member = staff_id("赵六")

    first = dingtalk.press(digest.card_id, member, "agree")
    second = dingtalk.press(digest.card_id, member, "disagree")
    third = dingtalk.press(digest.card_id, member, "pass")
    again = dingtalk.press(digest.card_id, member, "more")

    # Fewest marks first: #1 has one already. Before a click everyone sees the card's first.
    assert digest.params["statement"] == "#2 李四（意见）：先试点一个小区"
    assert first["userPrivateData"]["cardParamMap"]["my_number"] == "3"
    assert second["userPrivateData"]["cardParamMap"]["my_statement"] == (
        "#1 张三（意见）：电梯费用按楼层分摊"
    )
    assert third["userPrivateData"]["cardParamMap"]["finished"] == "true"
    assert again["userPrivateData"]["cardParamMap"]["notice"] == "暂时没有新的发言可表态。"
    assert stances_of(bot, "赵六") == [(1, 0), (2, 1), (3, -1)]
    dingtalk.wait_until(
        lambda: (
            "#1 张三（意见）：电梯费用按楼层分摊　赞同 0 · 反对 1 · 弃权 1" in digest.params["list"]
        ),
        what="the marks on the digest card",
    )
    assert not any("赵六" in text for text in group.texts())  # clicks are not group messages


def test_the_bot_answers_pings_and_comes_back_after_a_disconnect(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    echoed = dingtalk.ping()
    opened = len(dingtalk.connections)
    dingtalk.disconnect()
    dingtalk.wait_connected(opened + 1)

    group.say("张三", "/投 1")

    assert set(echoed) == {"opaque"}
    assert group.wait_for("没有进行中的协商").via == "webhook"


def test_an_unreadable_frame_is_acknowledged_and_harms_nothing(
    dingtalk: FakeDingTalk, group: FakeGroup
) -> None:
    unreadable = dingtalk.push(ROBOT_TOPIC, {"msgtype": "text", "text": {"content": "/投 1"}})
    dingtalk.wait_acked([unreadable])

    group.say("张三", "/投 1")

    assert group.wait_for("没有进行中的协商").text.startswith("张三：")


def test_a_message_the_database_refused_is_not_acknowledged_and_comes_again(
    dingtalk: FakeDingTalk, bot: BotProcess, group: FakeGroup
) -> None:
    database = sqlite3.connect(bot.workdir / "xieshang.db")
    database.execute(
        "CREATE TRIGGER refuse_messages BEFORE INSERT ON inbound_event"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    database.commit()
    frame = dingtalk.frames_by_id(group.say("张三", "/投 1"))
    try:
        dingtalk.wait_until(lambda: frame.deliveries >= 2, what="the frame delivered again")
        unacknowledged = frame.acked_at is None
    finally:
        database.execute("DROP TRIGGER refuse_messages")
        database.commit()
        database.close()

    dingtalk.wait_acked([frame.message_id])

    assert unacknowledged
    assert group.wait_for("没有进行中的协商").text.startswith("张三：")


def test_two_hundred_members_vote_at_once_through_a_dropped_socket(
    ready_database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261124)
    choices = {f"委员{i:03d}": rng.randint(1, 3) for i in range(200)}
    delivered_twice = set(rng.sample(sorted(choices), 10))
    with FakeDingTalk() as dingtalk:
        bot = BotProcess(tmp_path, bot_env(dingtalk, ready_database_url)).start()
        try:
            dingtalk.wait_connected()
            group = dingtalk.group()
            group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
            group.say_and_wait(MODERATOR, POLL, admin=True)
            announcement = group.wait_for("投票 #1：")

            votes = [
                (
                    ROBOT_TOPIC,
                    group.message(name, f"/投 {choice}"),
                    2 if name in delivered_twice else 1,
                )
                for name, choice in choices.items()
            ]
            frames = dingtalk.push_spread(votes, over=2.0)
            dingtalk.drop(after=1.0)
            dingtalk.wait_acked(frames, timeout=60)
            dingtalk.wait_until(
                lambda: acknowledged_votes(group.posts()) >= 200, 30, "every voter acknowledged"
            )
            group.say(MODERATOR, "/结束投票", admin=True)
            result = group.wait_for("投票 #1 结果")
            posts = group.posts()
        except Exception as error:
            error.add_note(f"xieshang's log:\n{bot.log()}")
            raise
        finally:
            bot.stop()
    engine = sa.create_engine(normalize_url(ready_database_url))
    with engine.connect() as connection:
        ballots = connection.execute(sa.text("SELECT count(*) FROM ballot")).scalar_one()
    engine.dispose()

    expected = Counter(choices.values())
    assert announcement.text.startswith("投票 #1：夜市延长到23点？")  # no card template: text
    assert len(dingtalk.connections) == 2  # the dropped socket was reopened
    assert ballots == 200
    assert acknowledged_votes(posts) == 200
    assert tally_from(result.text) == {
        "支持": expected[1],
        "反对": expected[2],
        "弃权": expected[3],
    }
    assert "共 200 人投票" in result.text
    assert most_in_one_minute(posts) <= 20


def test_the_shipped_card_template_declares_every_variable_the_bot_fills() -> None:
    template = json.loads((ROOT / "docs" / "dingtalk-poll-card.json").read_text(encoding="utf-8"))
    filled = poll_card_params(
        PollView(
            key="poll:1",
            title="投票 #1",
            question="?",
            options=(
                PollOptionView(1, "甲", 1, 1.0, "100%", "甲　██████████ 1 · 100%"),
                PollOptionView(2, "乙", 0, 0.0, "0%", "乙　░░░░░░░░░░ 0 · 0%"),
            ),
            voters=1,
            closed=False,
            multiple=False,
            anonymous=False,
            status="进行中",
            traits=("单选",),
            turnout="1 人已投",
            result="",
            hint="点击选项投票",
            vote_label="投票",
            revote_label="改投",
            closed_label="投票已结束",
        )
    )

    assert set(template["variables"]) == set(filled)
    assert set(template["privateVariables"]) == set(PRIVATE_CARD_PARAMS)
    assert template["callbackType"] == "STREAM"


def test_the_shipped_statement_card_template_declares_every_variable_the_bot_fills() -> None:
    template = json.loads(
        (ROOT / "docs" / "dingtalk-statement-card.json").read_text(encoding="utf-8")
    )
    line = StatementLine(
        12, "#12", "电梯费用按楼层分摊", "张三", "意见", "赞同 0 · 反对 0 · 弃权 0", "…"
    )
    view = StanceView(
        key="stances:1",
        title="请对这 1 条意见和建议表态",
        lead=line,
        statements=(line,),
        buttons=(StanceButton("agree", "赞同"),),
        hint="点击表态",
        closed=False,
        status="",
        closed_label="表态已结束",
        finished="你已表态",
        more=StanceButton("more", "看看新发言"),
    )
    dealt = stance_private_view(notice="已记录", deal=Deal(statement=line, stance="赞同"))

    assert set(template["variables"]) == set(stance_card_params(view))
    assert set(template["privateVariables"]) == set(PRIVATE_STANCE_PARAMS)
    assert set(dealt["userPrivateData"]["cardParamMap"]) == set(PRIVATE_STANCE_PARAMS)
    assert template["callbackType"] == "STREAM"

"""The bot in a WeCom group over the long connection, against a fake WeCom on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from docx import Document

from bot.adapters.wecom.adapter import WeComLongConnection
from bot.adapters.wecom.render import DESC_CHARS, MAX_CONTENT_BYTES, OPTION_CHARS, TITLE_CHARS
from bot.core.clock import ManualClock
from bot.core.settings import PlatformSettings, RoleSettings, Settings, WeComSettings
from bot.core.welcome import WELCOME
from bot.runtime.app import App
from tests.conftest import make_settings
from tests.fakes.wecom_long_connection import FakeWeComServer, Frame, card_of, replies_with
from tests.handlers.test_polls import tally_from

MODERATOR = "zhuchiren"
SECRETARY = "mishu"
POLL = "/投票 夜市延长到23点？| 支持 | 反对 | 弃权"


def wecom_settings(url: str, server: FakeWeComServer, **wecom: Any) -> Settings:
    return make_settings(
        url,
        platforms=PlatformSettings(wecom=WeComSettings(websocket_url=server.url, **wecom)),
        roles=RoleSettings(moderators=[f"wecom:{MODERATOR}"], secretaries=[f"wecom:{SECRETARY}"]),
    )


def connection(
    app: App, server: FakeWeComServer, clock: ManualClock, secret: str | None = None
) -> WeComLongConnection:
    return WeComLongConnection(
        bot_id=server.bot_id,
        secret=secret or server.secret,
        settings=app.settings.platforms.wecom,
        clock=clock,
        zone=app.settings.zone,
        reconnect_base_seconds=0.01,
    )


class WeComGroup:
    """A WeCom group with the bot in it: members @ the bot, the test reads what WeCom got."""

    def __init__(self, app: App, adapter: WeComLongConnection, server: FakeWeComServer) -> None:
        self.app = app
        self.adapter = adapter
        self.server = server
        self.clock: ManualClock = app.clock  # type: ignore[assignment]
        self._committed = asyncio.Event()
        app.dispatcher.committed_listeners.append(lambda _touched: self._committed.set())

    async def say(self, who: str, text: str, **kwargs: Any) -> str:
        """`who` @s the bot; returns the callback's req_id once the bot has committed it."""
        req_id = await self.server.member_says(who, text, **kwargs)
        await self.all_committed()
        return req_id

    async def all_committed(self) -> None:
        """Wait until the bot has recorded every message and click WeCom pushed."""
        async with asyncio.timeout(30):
            while True:
                self._committed.clear()
                if self.count("inbound_event") >= len(self.server.pushed):
                    return
                await self._committed.wait()

    async def outbox_sends(self) -> None:
        """Let the outbox send what is due (after the acknowledgement delay)."""
        self.clock.advance(timedelta(seconds=self.app.settings.outbox.ack_delay_seconds))
        await self.app.outbox.flush()

    def count(self, table: str, where: str = "") -> int:
        query = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        with self.app.engine.connect() as connection:
            return int(connection.exec_driver_sql(query).scalar_one())

    async def open_poll(self, command: str = POLL) -> Frame:
        """The moderator opens a consultation and a poll; returns the card WeCom shows."""
        await self.say(MODERATOR, "/协商 开始 夜市延长营业时间")
        await self.say(MODERATOR, command)
        await self.outbox_sends()
        [frame] = await self.server.wait_for(lambda f: "template_card" in f.get("body", {}))
        return card_of(frame)


@pytest.fixture
async def server() -> AsyncIterator[FakeWeComServer]:
    fake = FakeWeComServer()
    await fake.start()
    yield fake
    await fake.close()


async def start_bot(
    url: str, clock: ManualClock, server: FakeWeComServer, **wecom: Any
) -> WeComGroup:
    app = App(
        wecom_settings(url, server, **wecom),
        clock=clock,
        adapters=[],
        secret=b"k",
        fire_jobs=False,
        serve_web=False,
    )
    adapter = connection(app, server, clock)
    app.adapters[adapter.platform] = adapter
    await app.start()
    async with asyncio.timeout(15):
        await adapter.connected.wait()
    return WeComGroup(app, adapter, server)


@pytest.fixture
async def group(
    sqlite_url: str, clock: ManualClock, server: FakeWeComServer
) -> AsyncIterator[WeComGroup]:
    bot = await start_bot(sqlite_url, clock, server)
    yield bot
    await bot.app.stop()


async def test_the_bot_subscribes_with_its_credentials_and_keeps_pinging(
    sqlite_url: str, clock: ManualClock, server: FakeWeComServer
) -> None:
    bot = await start_bot(sqlite_url, clock, server, heartbeat_seconds=0.02)
    try:
        pings = await server.wait_for(lambda f: f["cmd"] == "ping", count=3)
    finally:
        await bot.app.stop()

    [subscribe] = server.sent("aibot_subscribe")
    assert subscribe["body"] == {"bot_id": server.bot_id, "secret": server.secret}
    assert len({p["headers"]["req_id"] for p in pings}) == 3


async def test_a_command_is_answered_in_reply_to_the_members_message(group: WeComGroup) -> None:
    req_id = await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.outbox_sends()

    [reply] = await group.server.wait_for(replies_with("协商开始"))
    assert reply["cmd"] == "aibot_respond_msg"
    assert reply["headers"]["req_id"] == req_id
    assert reply["body"]["stream"]["finish"] is True


async def test_the_mention_is_removed_and_a_member_cannot_open_a_poll(group: WeComGroup) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say("zhangsan", POLL)
    await group.outbox_sends()

    await group.server.wait_for(replies_with("仅限主持人使用"))
    assert group.count("poll") == 0


async def test_two_hundred_members_vote_through_cards_and_the_command(
    ready_database_url: str, clock: ManualClock, server: FakeWeComServer
) -> None:
    bot = await start_bot(ready_database_url, clock, server)
    try:
        card = await bot.open_poll()
        assert card["card_type"] == "vote_interaction"
        assert [o["text"] for o in card["checkbox"]["option_list"]] == [
            "支持（0）",
            "反对（0）",
            "弃权（0）",
        ]
        rng = random.Random(4)
        members = [f"weiyuan{i:03d}" for i in range(200)]
        choice = {m: rng.randint(1, 3) for m in members}
        clickers, typists = members[:100], members[100:]

        clicks = [
            server.member_submits(m, card, [str(choice[m])], msgid=f"e-{m}", flat=i % 2 == 1)
            for i, m in enumerate(clickers)
        ]
        typed = [server.member_says(m, f"/投 {choice[m]}", msgid=f"t-{m}") for m in typists]
        redelivered = [
            server.member_submits(m, card, [str(choice[m])], msgid=f"e-{m}") for m in clickers[:10]
        ] + [server.member_says(m, f"/投 {choice[m]}", msgid=f"t-{m}") for m in typists[:10]]
        await asyncio.gather(*clicks, *typed, *redelivered)
        await bot.all_committed()
        updates = await server.wait_for(lambda f: f["cmd"] == "aibot_respond_update_msg", count=110)

        assert bot.count("ballot") == 200
        mine = next(u for u in updates if u["body"]["userids"] == ["weiyuan007"])
        ticked = [o["id"] for o in card_of(mine)["checkbox"]["option_list"] if o["is_checked"]]
        assert ticked == [str(choice["weiyuan007"])]
        assert card_of(mine)["task_id"] == card["task_id"]
        assert card_of(mine)["submit_button"]["text"] == "改投"

        await bot.say(MODERATOR, "/结束投票")
        await bot.outbox_sends()
        [result] = await server.wait_for(replies_with("投票 #1 结果"))
    finally:
        await bot.app.stop()

    expected = Counter(choice.values())
    content = result["body"]["stream"]["content"]
    assert tally_from(content) == {"支持": expected[1], "反对": expected[2], "弃权": expected[3]}
    assert "共 200 人投票" in content


async def test_a_changed_click_replaces_the_members_ballot(group: WeComGroup) -> None:
    card = await group.open_poll("/投票 优先改造哪些？| 照明 | 卫生间 | 停车 多选")

    await group.server.member_submits("zhangsan", card, ["1", "3"])
    await group.server.member_submits("zhangsan", card, ["2"])
    await group.all_committed()
    updates = await group.server.wait_for(lambda f: f["cmd"] == "aibot_respond_update_msg", count=2)

    assert group.count("ballot") == 1
    assert card_of(updates[0])["checkbox"]["mode"] == 1
    texts = [o["text"] for o in card_of(updates[1])["checkbox"]["option_list"]]
    assert texts == ["照明（0）", "卫生间（1）", "停车（0）"]


async def test_a_submit_with_nothing_ticked_says_so_on_the_card(group: WeComGroup) -> None:
    card = await group.open_poll()

    await group.server.member_submits("zhangsan", card, [])
    [update] = await group.server.wait_for(lambda f: f["cmd"] == "aibot_respond_update_msg")

    assert "请写出选项序号" in card_of(update)["main_title"]["desc"]
    assert group.count("ballot") == 0


async def test_a_poll_closed_by_its_deadline_is_posted_by_the_bot_on_its_own(
    group: WeComGroup, clock: ManualClock
) -> None:
    card = await group.open_poll(POLL + " 截止 30分钟")
    await group.server.member_submits("zhangsan", card, ["1"])
    await group.say("lisi", "/投 2")
    await group.outbox_sends()

    clock.advance(timedelta(minutes=31))
    await group.app.scheduler.run_due(clock.now())
    await group.app.outbox.flush()

    [post] = await group.server.wait_for(replies_with("投票 #1 结果"))
    assert post["cmd"] == "aibot_send_msg"
    assert post["body"]["chatid"] == "wrGROUP1"
    assert post["body"]["msgtype"] == "markdown"
    assert "共 2 人投票" in post["body"]["markdown"]["content"]


async def test_a_throttled_reply_waits_and_is_sent_later(
    group: WeComGroup, clock: ManualClock
) -> None:
    group.server.refusals.append((45009, "api freq out of limit"))
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.outbox_sends()

    with group.app.engine.connect() as db:
        [row] = db.exec_driver_sql("SELECT attempts, last_error FROM outbox").all()
    assert tuple(row) == (1, "errcode 45009: api freq out of limit")
    clock.advance(timedelta(minutes=5))
    await group.app.outbox.flush()
    await group.server.wait_for(replies_with("协商开始"))
    assert group.count("outbox", "status = 'pending'") == 0


async def test_a_newer_connection_kicks_out_the_older_which_stands_down(
    group: WeComGroup, clock: ManualClock
) -> None:
    newer = connection(group.app, group.server, clock)
    await newer.start(group.app.link)
    try:
        async with asyncio.timeout(15):
            await newer.connected.wait()
            assert group.adapter._runner is not None
            await group.adapter._runner  # the older one ends instead of reconnecting

        await group.server.member_says(MODERATOR, "/协商 开始 夜市")
        await group.all_committed()
    finally:
        await newer.stop()

    assert group.adapter.kicked_out
    assert group.server.kicked_out == 1
    assert group.server.subscriptions == 2


async def test_a_dropped_connection_is_dialled_again(group: WeComGroup) -> None:
    await group.server.drop_connection()

    await group.server.wait_for(lambda f: f["cmd"] == "aibot_subscribe", count=2)
    async with asyncio.timeout(15):
        await group.adapter.connected.wait()
    await group.say(MODERATOR, "/协商 开始 夜市")

    assert group.count("consultation") == 1


async def test_wrong_credentials_never_connect(
    sqlite_url: str, clock: ManualClock, server: FakeWeComServer
) -> None:
    app = App(
        wecom_settings(sqlite_url, server),
        clock=clock,
        adapters=[],
        secret=b"k",
        fire_jobs=False,
        serve_web=False,
    )
    adapter = connection(app, server, clock, secret="an-old-secret")
    app.adapters[adapter.platform] = adapter
    await app.start()
    try:
        await server.wait_for(lambda f: f["cmd"] == "aibot_subscribe", count=2)
    finally:
        await app.stop()

    assert not adapter.connected.is_set()
    assert server.subscriptions == 0
    assert "an-old-secret" not in repr(adapter)


async def test_broken_and_unknown_frames_are_passed_over(group: WeComGroup) -> None:
    for junk in [
        "not json",
        "[1, 2]",
        '{"cmd": "aibot_msg_callback", "headers": {"req_id": "r1"}}',
        '{"cmd": "aibot_msg_callback", "headers": {}, "body": {"msgid": "x", "from": 7}}',
        '{"cmd": "aibot_event_callback", "headers": {}, "body": {"event": "enter_chat"}}',
        '{"cmd": "aibot_something_new", "headers": {"req_id": "r2"}, "body": {}}',
    ]:
        await group.server.push_raw(junk)
    await group.server.push(
        "aibot_msg_callback",
        {"msgid": "pic-1", "chattype": "group", "chatid": "wrGROUP1", "from": {"userid": "ls"}}
        | {"msgtype": "image", "image": {"url": "https://example.invalid/1"}},
    )

    await group.say(MODERATOR, "/协商 开始 夜市")

    assert group.count("consultation") == 1
    assert group.count("inbound_event", "outcome = 'ignored'") == 1  # the picture


async def test_odd_characters_in_ids_are_cleaned_and_the_batch_commits(group: WeComGroup) -> None:
    await group.server.member_says(MODERATOR, "/协商 开始 夜市")
    await group.all_committed()

    await asyncio.gather(
        group.server.member_says("zhangsan", "/意见 夜市要有厕所"),
        group.server.member_says("li\x00si", "/意见 夜市要有路灯", chatid="wrGROUP1\u200b"),
        group.server.member_says("wang\u202ewu", "/意见 夜市要有停车位"),
    )
    await group.all_committed()

    assert group.count("opinion") == 3
    assert group.count("member", "user_id IN ('zhangsan', 'lisi', 'wangwu')") == 3
    assert group.count("chat_group") == 1


def button_card(frame: Frame) -> bool:
    """Whether a frame carries a button_interaction card."""
    card = (frame.get("body") or {}).get("template_card") or {}
    return bool(card.get("card_type") == "button_interaction")


async def test_a_press_on_the_digest_card_deals_the_next_statement_and_equals_the_command(
    group: WeComGroup,
) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
    for who, text in [("zhangsan", "电梯费用按楼层分摊"), ("lisi", "先试点一个小区")]:
        await group.say(who, f"/意见 {text}")
    await group.say("zhaoliu", "/表态")
    await group.outbox_sends()
    [frame] = await group.server.wait_for(button_card)
    card = card_of(frame)

    await group.server.member_presses("zhaoliu", card, "赞同")
    [update] = await group.server.wait_for(lambda f: f["cmd"] == "aibot_respond_update_msg")
    await group.say("zhaoliu", "/赞同 #1")
    await group.outbox_sends()

    mine = card_of(update)
    assert [b["text"] for b in card["button_list"]] == ["赞同", "反对", "弃权"]
    assert card["quote_area"]["title"] == "#1 zhangsan（意见）"
    assert [line["keyname"] for line in card["horizontal_content_list"]] == ["#1", "#2"]
    assert update["body"]["userids"] == ["zhaoliu"]
    assert mine["task_id"] == card["task_id"]
    assert mine["main_title"]["desc"] == "已记录你对 #1 的赞同"
    assert mine["quote_area"]["quote_text"] == "先试点一个小区"  # dealt #2 next
    assert all(b["key"].endswith("-2") for b in mine["button_list"])  # its buttons mark #2
    await group.server.wait_for(replies_with("zhaoliu：你已赞同过 #1"))
    assert group.count("stance") == 1


async def test_a_member_opening_a_chat_is_welcomed_in_answer_to_the_event(
    group: WeComGroup,
) -> None:
    req_id = await group.server.member_enters("zhangsan")

    [welcome] = await group.server.wait_for(lambda f: f["cmd"] == "aibot_respond_welcome_msg")

    # Answered at once on the event's own req_id (WeCom takes no other, and only within 5 s),
    # not queued behind the group's messages in the outbox.
    assert welcome["headers"]["req_id"] == req_id
    assert group.count("outbox") == 0
    assert welcome["body"] == {"msgtype": "text", "text": {"content": WELCOME}}
    assert "/帮助" in WELCOME


async def test_the_minutes_follow_their_markdown_as_the_stored_word_file(
    group: WeComGroup,
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/协商 阶段 开展协商")
    await group.say("zhangsan", "/意见 夜市延长到23点会影响周边居民休息")
    await group.say("lisi", "/建议 设置降噪屏障并限制外放音响")
    await group.say(SECRETARY, "/纪要")
    await group.app.minutes.drain()
    await group.outbox_sends()

    [minutes] = await group.server.wait_for(replies_with("### 会议纪要"))
    [(frame, name, content)] = group.server.files()
    with group.app.engine.connect() as db:
        [(docx,)] = db.exec_driver_sql("SELECT docx FROM minutes_version").all()
    assert group.server.received.index(frame) > group.server.received.index(minutes)
    assert name == "会议纪要-协商1-第1版.docx"
    assert content == bytes(docx)
    assert "影响周边居民休息" in "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert frame["body"]["msgtype"] == "file"


async def test_a_reply_of_30000_bytes_arrives_as_two_messages_in_order(
    group: WeComGroup,
) -> None:
    sentence = "夜市延长营业时间需要统筹考虑周边居民的休息、交通和环境卫生。"
    long_suggestion = (sentence * 70)[:1990]
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/协商 阶段 开展协商")
    for number in range(1, 6):
        await group.say(f"weiyuan{number}", f"/建议 {number}号：{long_suggestion}")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.outbox_sends()
    sent_before = len(group.server.received)

    await group.say(SECRETARY, "/报送 #1 #2 #3 #4 #5 市民政局")
    await group.outbox_sends()
    with group.app.engine.connect() as db:
        [(letter,)] = db.exec_driver_sql("SELECT markdown FROM referral_letter").all()
    await group.server.wait_for(lambda f: f["body"].get("msgtype") == "file")

    texts = [
        (frame["body"].get("stream") or frame["body"].get("markdown"))["content"]
        for frame in group.server.received[sent_before:]
        if frame["cmd"] in ("aibot_respond_msg", "aibot_send_msg")
        and frame["body"]["msgtype"] in ("stream", "markdown")
    ]
    notice, *letter_parts = texts
    assert notice.startswith("报送 #1：#1–#5 已报送市民政局")
    assert 20480 < len(letter.encode()) <= 2 * MAX_CONTENT_BYTES
    assert len(letter_parts) == 2
    assert all(len(part.encode()) <= MAX_CONTENT_BYTES for part in letter_parts)
    first, second = letter_parts
    assert first.startswith("协商报送〔2026〕1号")
    assert second.endswith(letter.rsplit("\n", 1)[1])  # the letter's date, last
    # Nothing lost, nothing twice: the two parts are the letter, cut at a line break.
    assert (first + second).replace("\n", "") == letter.replace("\n", "")


async def test_a_long_question_is_cut_to_what_the_card_shows_with_the_whole_text_beside(
    group: WeComGroup,
) -> None:
    question = "是否支持将夜市的营业时间从晚上十点延长到晚上十一点半，并在周末再延长半小时？"
    options = ["支持延长到十一点半并在周末再延长", "只在周末延长营业时间", "维持现状"]

    card = await group.open_poll(f"/投票 {question} | {' | '.join(options)}")

    [frame] = [f for f in group.server.received if "template_card" in f.get("body", {})]
    texts = [o["text"] for o in card["checkbox"]["option_list"]]
    assert len(card["main_title"]["title"]) <= TITLE_CHARS
    assert card["main_title"]["title"].endswith("…")
    assert len(card["main_title"]["desc"]) <= DESC_CHARS
    assert all(len(text) <= OPTION_CHARS for text in texts)
    assert texts[2] == "维持现状（0）"
    # The card's message carries the poll's whole text: nothing is lost to the cut.
    assert frame["body"]["msgtype"] == "stream_with_template_card"
    whole = frame["body"]["stream"]["content"]
    assert question in whole
    assert all(option in whole for option in options)


async def test_a_voice_message_is_kept_as_its_transcript_marked_as_voice(
    group: WeComGroup,
) -> None:
    await group.server.push(
        "aibot_msg_callback",
        {"msgid": "voice-1", "chattype": "single", "from": {"userid": "zhangsan"}}
        | {"msgtype": "voice", "voice": {"content": "建议夜市增设公共厕所"}},
    )
    await group.all_committed()

    with group.app.engine.connect() as db:
        kept = db.exec_driver_sql("SELECT text, voice FROM inbound_event").all()
    assert [tuple(row) for row in kept] == [("建议夜市增设公共厕所", True)]

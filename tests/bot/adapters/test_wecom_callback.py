"""The bot behind WeCom's callback URL, against a fake WeCom that encrypts and signs."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.adapters.wecom.adapter import WeComCallback
from bot.core.clock import ManualClock
from bot.core.settings import (
    PlatformSettings,
    RoleSettings,
    StanceSettings,
    WebSettings,
    WeComSettings,
)
from bot.core.welcome import WELCOME
from bot.runtime.app import App
from tests.conftest import make_settings
from tests.fakes.wecom_callback import (
    AES_KEY,
    TOKEN,
    Body,
    FakeWeComCallbacks,
    markdown_with,
)
from tests.handlers.test_polls import tally_from

MODERATOR = "zhuchiren"
SECRETARY = "mishu"
POLL = "/投票 夜市延长到23点？| 支持 | 反对 | 弃权"


class CallbackGroup:
    """A WeCom group whose messages reach the bot as signed callbacks."""

    def __init__(self, app: App, wecom: FakeWeComCallbacks) -> None:
        self.app = app
        self.wecom = wecom
        self.clock: ManualClock = app.clock  # type: ignore[assignment]

    async def say(self, who: str, text: str, **kwargs: Any) -> int:
        """`who` @s the bot; the HTTP status the bot answered WeCom with."""
        status, _ = await self.wecom.post(self.wecom.message(who, text, **kwargs))
        return status

    async def outbox_sends(self) -> None:
        self.clock.advance(timedelta(seconds=self.app.settings.outbox.ack_delay_seconds))
        await self.app.outbox.flush()

    def count(self, table: str, where: str = "") -> int:
        query = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        with self.app.engine.connect() as connection:
            return int(connection.exec_driver_sql(query).scalar_one())

    async def open_poll(self) -> Body:
        """The moderator opens a consultation and a poll; the card the group is shown."""
        await self.say(MODERATOR, "/协商 开始 夜市延长营业时间")
        await self.say(MODERATOR, POLL)
        await self.outbox_sends()
        [poll] = self.wecom.responses_matching(lambda b: b.get("msgtype") == "template_card")
        card: Body = poll["template_card"]
        return card


async def start_bot(
    url: str, clock: ManualClock, wecom: FakeWeComCallbacks, **overrides: object
) -> CallbackGroup:
    settings = make_settings(
        url,
        web=WebSettings(port=0),
        platforms=PlatformSettings(wecom=WeComSettings(response_url_origins=[wecom.origin])),
        roles=RoleSettings(moderators=[f"wecom:{MODERATOR}"], secretaries=[f"wecom:{SECRETARY}"]),
        **overrides,
    )
    adapter = WeComCallback(
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        settings=settings.platforms.wecom,
        clock=clock,
        zone=settings.zone,
    )
    app = App(settings, clock=clock, adapters=[adapter], secret=b"k", fire_jobs=False)
    await app.start()
    wecom.bot_url = f"http://127.0.0.1:{app.web_port}{settings.platforms.wecom.callback_path}"
    return CallbackGroup(app, wecom)


@pytest.fixture
async def wecom(clock: ManualClock) -> AsyncIterator[FakeWeComCallbacks]:
    fake = FakeWeComCallbacks(clock)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def group(
    sqlite_url: str, clock: ManualClock, wecom: FakeWeComCallbacks
) -> AsyncIterator[CallbackGroup]:
    bot = await start_bot(sqlite_url, clock, wecom)
    yield bot
    await bot.app.stop()


async def test_the_url_is_verified_with_the_decrypted_echo(group: CallbackGroup) -> None:
    status, text = await group.wecom.verify_url("7396628418112546049")

    assert (status, text) == (200, "7396628418112546049")


async def test_a_url_verification_with_a_tampered_signature_is_refused(
    group: CallbackGroup,
) -> None:
    status, text = await group.wecom.verify_url("7396628418112546049", signature="f" * 40)

    assert status == 403
    assert "7396628418112546049" not in text


async def test_a_command_is_answered_through_its_response_url(group: CallbackGroup) -> None:
    status = await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.outbox_sends()

    assert status == 200
    [reply] = group.wecom.responses_matching(markdown_with("协商开始"))
    assert "夜市延长营业时间" in reply["markdown"]["content"]
    assert group.wecom.reused == []


@pytest.mark.parametrize(
    ("signature", "age", "receive_id"),
    [
        pytest.param("0" * 40, 0, "", id="tampered signature"),
        pytest.param(None, 301, "", id="six minutes old"),
        pytest.param(None, -301, "", id="from the future"),
        pytest.param(None, 0, "wwcorp123", id="another receive id"),
    ],
)
async def test_a_callback_failing_a_check_is_refused_and_changes_nothing(
    group: CallbackGroup, signature: str | None, age: int, receive_id: str
) -> None:
    body = group.wecom.message(MODERATOR, "/协商 开始 夜市")

    status, reply = await group.wecom.post(
        body, signature=signature, age=age, receive_id=receive_id
    )
    await group.outbox_sends()

    assert (status, reply) == (403, None)
    assert group.count("inbound_event") == 0
    assert group.count("consultation") == 0
    assert group.wecom.responses == []


async def test_a_replayed_msgid_changes_nothing(group: CallbackGroup) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.outbox_sends()
    opinion = group.wecom.message("zhangsan", "/意见 延长到23点", msgid="m-1")

    first, _ = await group.wecom.post(opinion)
    again, _ = await group.wecom.post(opinion)
    await group.outbox_sends()

    assert (first, again) == (200, 200)  # answered, so WeCom stops redelivering
    assert group.count("opinion") == 1
    assert len(group.wecom.responses_matching(markdown_with("#1"))) == 1


async def test_a_response_url_to_another_host_is_never_followed(group: CallbackGroup) -> None:
    await group.say(
        MODERATOR, "/协商 开始 夜市", response_url="https://attacker.example/steal?code=1"
    )
    await group.outbox_sends()

    assert group.count("consultation") == 1
    assert group.wecom.responses == []
    assert group.count("outbox", "status = 'pending'") == 1  # waits for a usable answer
    await group.say("zhangsan", "/帮助")
    group.clock.advance(timedelta(minutes=1))
    await group.outbox_sends()
    assert group.wecom.responses_matching(markdown_with("协商开始"))


async def test_a_card_submit_is_answered_with_the_members_updated_card(
    group: CallbackGroup,
) -> None:
    card = await group.open_poll()

    status, reply = await group.wecom.post(group.wecom.card_submit("zhangsan", card, ["2"]))

    assert status == 200
    assert reply is not None
    assert reply["response_type"] == "update_template_card"
    assert reply["userids"] == ["zhangsan"]
    updated = reply["template_card"]
    assert updated["task_id"] == card["task_id"]
    assert [o["is_checked"] for o in updated["checkbox"]["option_list"]] == [False, True, False]
    assert updated["checkbox"]["option_list"][1]["text"] == "反对（1）"
    assert "已记录zhangsan的选票" in updated["main_title"]["desc"]


async def test_two_hundred_members_vote_through_cards_and_the_command(
    ready_database_url: str, clock: ManualClock, wecom: FakeWeComCallbacks
) -> None:
    bot = await start_bot(ready_database_url, clock, wecom)
    try:
        card = await bot.open_poll()
        rng = random.Random(24)
        members = [f"weiyuan{i:03d}" for i in range(200)]
        choice = {m: rng.randint(1, 3) for m in members}
        for i, member in enumerate(members):
            if i % 2:
                body = wecom.card_submit(member, card, [str(choice[member])], msgid=f"e-{member}")
            else:
                body = wecom.message(member, f"/投 {choice[member]}", msgid=f"t-{member}")
            status, _ = await wecom.post(body)
            assert status == 200
            if i % 20 == 0:  # WeCom delivers some callbacks twice
                status, _ = await wecom.post(body)
                assert status == 200

        await bot.say(MODERATOR, "/结束投票")
        await bot.outbox_sends()
    finally:
        await bot.app.stop()

    assert bot.count("ballot") == 200
    expected = Counter(choice.values())
    [result] = wecom.responses_matching(markdown_with("投票 #1 结果"))
    content = result["markdown"]["content"]
    assert "共 200 人投票" in content
    assert tally_from(content) == {"支持": expected[1], "反对": expected[2], "弃权": expected[3]}
    assert wecom.reused == []


async def test_a_callback_the_database_could_not_keep_is_not_acknowledged(
    group: CallbackGroup,
) -> None:
    body = group.wecom.message(MODERATOR, "/协商 开始 夜市", msgid="m-lost?")
    with group.app.engine.begin() as db:  # the database fails under the bot
        db.exec_driver_sql("ALTER TABLE inbound_event RENAME TO inbound_event_away")

    refused, _ = await group.wecom.post(body)
    with group.app.engine.begin() as db:
        db.exec_driver_sql("ALTER TABLE inbound_event_away RENAME TO inbound_event")
    redelivered, _ = await group.wecom.post(body)  # WeCom tries again after a failure

    assert (refused, redelivered) == (503, 200)
    assert group.count("inbound_event") == 1
    assert group.count("consultation") == 1


@pytest.mark.parametrize("timestamp", ["²", "9" * 5000, "１２３"])
async def test_a_timestamp_that_is_no_plain_number_is_refused_not_a_crash(
    group: CallbackGroup, timestamp: str
) -> None:
    query = {"msg_signature": "x", "timestamp": timestamp, "nonce": "n", "echostr": "e"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(group.wecom.bot_url, params=query) as response,
    ):
        status, text = response.status, await response.text()

    assert (status, text) == (403, "校验失败")


async def test_json_nested_beyond_reason_is_a_bad_request(group: CallbackGroup) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            group.wecom.bot_url,
            params=group.wecom.signed_query("x"),
            data=nested,
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        status, text = response.status, await response.text()

    assert (status, text) == (400, "格式不对")
    assert group.count("inbound_event") == 0


async def test_with_statement_cards_each_opinion_gets_stance_buttons_and_a_press_marks_it(
    sqlite_url: str, clock: ManualClock, wecom: FakeWeComCallbacks
) -> None:
    bot = await start_bot(sqlite_url, clock, wecom, stances=StanceSettings(statement_cards=True))
    try:
        await bot.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
        await bot.say("zhangsan", "/意见 电梯费用按楼层分摊")
        await bot.outbox_sends()
        [sent] = wecom.responses_matching(lambda b: b.get("msgtype") == "template_card")
        card: Body = sent["template_card"]

        status, reply = await wecom.post(wecom.button_press("lisi", card, "反对"))
        typed = await bot.say("lisi", "/反对 #1")
        await bot.outbox_sends()
    finally:
        await bot.app.stop()

    assert card["card_type"] == "button_interaction"
    assert card["main_title"]["title"] == "意见 #1"
    assert card["quote_area"]["quote_text"] == "电梯费用按楼层分摊"
    assert status == 200
    assert reply is not None
    updated = reply["template_card"]
    assert updated["task_id"] == card["task_id"]
    assert updated["sub_title_text"] == "赞同 0 · 反对 1 · 弃权 0　你的表态：反对"
    assert typed == 200
    assert wecom.responses_matching(markdown_with("lisi：你已反对过 #1"))
    assert bot.count("stance") == 1
    assert bot.count("outbox", "body LIKE '已记录zhangsan的意见%' AND kind = 'card'") == 1


async def test_a_member_opening_a_chat_is_welcomed_in_the_answer_to_the_event(
    group: CallbackGroup,
) -> None:
    status, reply = await group.wecom.post(group.wecom.enter_chat("zhangsan"))

    assert status == 200
    assert reply == {"msgtype": "text", "text": {"content": WELCOME}}


async def test_a_file_goes_as_a_link_to_the_console_where_callbacks_take_none(
    group: CallbackGroup,
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/协商 阶段 开展协商")
    await group.say(SECRETARY, "/纪要")
    await group.app.minutes.drain()
    # Each answer needs a fresh response_url: members go on writing, as they do.
    for member in ("zhangsan", "lisi", "wangwu"):
        await group.say(member, f"/意见 {member}认为夜市应当延长营业")
    await group.outbox_sends()

    [minutes] = group.wecom.responses_matching(markdown_with("### 会议纪要"))
    [link] = group.wecom.responses_matching(markdown_with("（Word）："))
    assert group.wecom.responses.index(link) == group.wecom.responses.index(minutes) + 1
    port = group.app.settings.web.port
    assert link["markdown"]["content"] == (
        f"纪要第 1 版（Word）：http://127.0.0.1:{port}/console/consultations/1/minutes/1.docx"
        "（秘书登录协商助手后台后下载）"
    )

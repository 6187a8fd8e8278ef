"""The boundary of the bot: whatever a platform or a page sends in ids, names, titles and
text, what goes further is clean and fits the database, or the message is refused there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.dingtalk.wire import robot_message
from bot.adapters.wecom.render import message_body
from bot.adapters.wecom.wire import incoming_message
from bot.core.clock import ManualClock
from bot.core.messages import CardAction, IncomingMessage, Kind, Mention, OutgoingMessage

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
# NUL, a right-to-left override, a zero-width space, a byte order mark, a line separator.
DIRT = ("\x00", "\u202e", "\u200b", "\ufeff", "\u2028")


def message(**fields: Any) -> IncomingMessage:
    values: dict[str, Any] = {
        "platform": "test",
        "conversation_id": "群1",
        "sender_id": "id-张三",
        "sender_name": "张三",
        "text": "/意见 夜市要有厕所",
        "message_id": "m1",
        "timestamp": NOW,
        "conversation_title": "夜市群",
    }
    return IncomingMessage(**(values | fields))


@pytest.mark.parametrize("dirt", DIRT)
def test_every_field_loses_control_and_invisible_characters(dirt: str) -> None:
    received = message(
        conversation_id=f"群{dirt}1",
        sender_id=f"id-{dirt}张三",
        sender_name=f"张{dirt}三",
        message_id=f"m{dirt}1",
        conversation_title=f"夜市{dirt}群",
        text=f"/意见 夜市{dirt}要有厕所",
        action=CardAction(f"poll:{dirt}1", (f"{dirt}2",)),
    )

    assert (
        received.conversation_id,
        received.sender_id,
        received.sender_name,
        received.message_id,
        received.conversation_title,
        received.action,
    ) == ("群1", "id-张三", "张三", "m1", "夜市群", CardAction("poll:1", ("2",)))
    assert dirt not in received.text


@pytest.mark.parametrize("field", ["conversation_id", "sender_id", "message_id"])
def test_an_id_of_nothing_visible_or_too_long_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        message(**{field: "\x00\u202e\u200b"})
    with pytest.raises(ValueError, match=field):
        message(**{field: "x" * 129})


def test_names_and_titles_are_cut_to_what_the_database_keeps() -> None:
    received = message(sender_name="名" * 100, conversation_title="群" * 300)

    assert (len(received.sender_name), len(received.conversation_title)) == (64, 128)


@pytest.mark.parametrize("dirt", DIRT)
def test_dingtalk_fields_are_cleaned_as_they_arrive(dirt: str) -> None:
    data = {
        "conversationId": f"cid{dirt}1",
        "msgId": f"msg{dirt}1",
        "senderNick": f"张{dirt}三",
        "senderStaffId": f"staff{dirt}7",
        "conversationTitle": f"夜市{dirt}群",
        "conversationType": "2",
        "isInAtList": True,
        "createAt": 1796083200000,
        "text": {"content": f" /意见 夜市{dirt}要有厕所"},
        "msgtype": "text",
    }

    received = robot_message(data, admins_are_moderators=False, now=NOW)

    assert received is not None
    assert (received.conversation_id, received.message_id, received.sender_id) == (
        "cid1",
        "msg1",
        "staff7",
    )
    assert (received.sender_name, received.conversation_title) == ("张三", "夜市群")


@pytest.mark.parametrize("dirt", DIRT)
def test_wecom_fields_are_cleaned_or_the_callback_refused(dirt: str) -> None:
    body = {
        "msgid": f"msg{dirt}1",
        "chatid": f"wr{dirt}GROUP1",
        "chattype": "group",
        "from": {"userid": f"zhang{dirt}san"},
        "msgtype": "text",
        "text": {"content": "@协商助手 /意见 夜市要有厕所"},
    }

    received = incoming_message(body, bot_name="协商助手", clock=ManualClock(NOW), route=None)
    nothing = incoming_message(
        body | {"from": {"userid": dirt}}, bot_name="协商助手", clock=ManualClock(NOW), route=None
    )

    assert received is not None
    assert (received.conversation_id, received.sender_id, received.message_id) == (
        "wrGROUP1",
        "zhangsan",
        "msg1",
    )
    assert nothing is None


def test_dingtalk_at_users_become_the_members_mentioned_in_order() -> None:
    data = {
        "conversationId": "cid1",
        "msgId": "msg1",
        "senderNick": "秘书",
        "senderStaffId": "staff-1",
        "conversationType": "2",
        "isInAtList": True,
        "chatbotUserId": "$:LWCP_v1:$robot",
        "atUsers": [
            {"dingtalkId": "$:LWCP_v1:$robot"},
            {"dingtalkId": "$:LWCP_v1:$wm", "staffId": "staff-7"},
            {"dingtalkId": "$:LWCP_v1:$lh", "staffId": "staff-9"},
        ],
        "text": {"content": " /出席 @王明 市民政局 副局长 @李华"},
        "msgtype": "text",
    }

    received = robot_message(data, admins_are_moderators=False, now=NOW)

    assert received is not None
    assert received.mentions == (Mention("staff-7", "王明"), Mention("staff-9", "李华"))


def test_wecom_ats_a_member_in_markdown_by_userid() -> None:
    message = OutgoingMessage(
        platform="wecom",
        conversation_id="wrGROUP1",
        kind=Kind.TEXT,
        body="投票 #1 还有 1 位委员未投：@lisi。",
        mentions=("lisi",),
    )

    content = message_body(message, vote_cards=True)["markdown"]["content"]

    assert "<@lisi>" in content

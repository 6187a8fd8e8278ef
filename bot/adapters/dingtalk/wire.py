"""DingTalk's wire format: robot messages and card clicks in, request bodies out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dingtalk_stream import ChatbotMessage

from bot.core.files import FileRef
from bot.core.messages import (
    CardAction,
    IncomingMessage,
    Mention,
    OutgoingMessage,
    ReplyRoute,
    mentioned_names,
)
from bot.core.roles import Role

PLATFORM = "dingtalk"
GROUP_CHAT = "2"
SINGLE_CHAT = "1"
MAX_ID_LENGTH = 128  # the database's width for platform ids
_LEADING_MENTIONS = re.compile(r"^(?:\s*[@＠]\S+)+\s+")


def as_int(value: object) -> int | None:
    """An integer DingTalk may send as a number or a string; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def epoch_time(epoch_ms: object) -> datetime | None:
    """A DingTalk timestamp (milliseconds since the epoch) as an aware time."""
    millis = as_int(epoch_ms)
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC)


def robot_message(
    data: Mapping[str, Any], *, admins_are_moderators: bool, now: datetime
) -> IncomingMessage | None:
    """A robot message as the dispatcher takes it; None when it names no usable ids."""
    message = ChatbotMessage.from_dict(data)
    sender = message.sender_staff_id or message.sender_id
    ids = (message.conversation_id, message.message_id, sender)
    if not all(isinstance(i, str) and 0 < len(i) <= MAX_ID_LENGTH for i in ids):
        return None
    is_group = message.conversation_type == GROUP_CHAT
    roles = {Role.MODERATOR} if message.is_admin and admins_are_moderators else ()
    voice = message.message_type == "audio"
    text = _LEADING_MENTIONS.sub("", _message_text(message, data)).strip()
    return IncomingMessage(
        platform=PLATFORM,
        conversation_id=message.conversation_id,
        conversation_title=str(message.conversation_title or "")[:MAX_ID_LENGTH],
        sender_id=sender,
        sender_name=str(message.sender_nick or ""),
        text=text,
        message_id=message.message_id,
        timestamp=epoch_time(message.create_at) or now,
        addressed=bool(message.is_in_at_list) or not is_group,
        is_group=is_group,
        platform_roles=frozenset(roles),
        voice=voice,
        # The sessionWebhook answers this conversation until it expires; in a single chat
        # the robot may also write to the member by user id.
        route=ReplyRoute(
            address=message.session_webhook or "",
            expires_at=epoch_time(message.session_webhook_expired_time),
            private_to="" if is_group else sender,
        ),
        mentions=_mentions(message, text),
    )


def _mentions(message: ChatbotMessage, text: str) -> tuple[Mention, ...]:
    """The members @-mentioned besides the robot: atUsers gives their ids (staffId inside
    the organisation), the text their names. DingTalk lists them in the order written, so
    ids and names pair up when there are as many of each; otherwise the ids stand alone."""
    users = [
        str(user.staff_id or user.dingtalk_id or "")
        for user in message.at_users or ()
        if user.dingtalk_id != message.chatbot_user_id and (user.staff_id or user.dingtalk_id)
    ]
    names = mentioned_names(text)
    if len(names) == len(users):
        return tuple(Mention(user, name) for user, name in zip(users, names, strict=True))
    return tuple(Mention(user, "") for user in users)


def _message_text(message: ChatbotMessage, data: Mapping[str, Any]) -> str:
    if message.message_type == "text" and message.text is not None:
        return str(message.text.content or "")
    if message.message_type == "richText" and message.rich_text_content is not None:
        return "".join(str(p.get("text", "")) for p in message.rich_text_content.rich_text_list)
    if message.message_type == "audio":
        # A voice message (DingTalk passes them to a robot in single chats only) carries
        # DingTalk's own transcript; the SDK does not read it, so it is read here.
        content = data.get("content")
        return str(content.get("recognition") or "") if isinstance(content, Mapping) else ""
    return ""


def clicked_option(content: object) -> int | None:
    """The option a card button stands for: its `option` parameter, or an id like `option_2`."""
    private = content.get("cardPrivateData", {}) if isinstance(content, dict) else {}
    params = private.get("params") or {}
    value = params.get("option") if isinstance(params, dict) else None
    if value is None:
        action_ids = private.get("actionIds") or []
        found = re.search(r"(\d+)$", str(action_ids[0])) if action_ids else None
        value = found.group(1) if found else None
    return as_int(value)


def clicked_stance(content: object) -> tuple[str, ...]:
    """What a stance card's button says: its `stance` parameter and the number of the
    statement the member saw (`statement`: the template's `${my_number}`, which is not set
    before their first click); empty for any other button."""
    private = content.get("cardPrivateData", {}) if isinstance(content, dict) else {}
    params = private.get("params") if isinstance(private, dict) else None
    if not isinstance(params, dict) or not isinstance(params.get("stance"), str):
        return ()
    return (params["stance"], str(params.get("statement") or "")) if params["stance"] else ()


def card_click(
    *,
    card_key: str,
    conversation_id: str,
    user: str,
    option: int | None,
    message_id: str,
    at: datetime,
    values: tuple[str, ...] = (),
) -> IncomingMessage:
    """A click on one of the bot's cards, as the dispatcher takes it: what the button says
    (`values`), or the poll option it stands for."""
    return IncomingMessage(
        platform=PLATFORM,
        conversation_id=conversation_id,
        sender_id=user,
        sender_name="",  # a click does not say the clicker's name: the stored one is kept
        text="",
        message_id=message_id,
        timestamp=at,
        action=CardAction(card_key, values or ((str(option),) if option is not None else ())),
    )


def webhook_body(message: OutgoingMessage, markdown: bool) -> dict[str, Any]:
    """A message for a sessionWebhook."""
    at = {"atUserIds": list(message.mentions)}
    if markdown:
        return {
            "msgtype": "markdown",
            "markdown": {"title": title_of(message.body), "text": message.body},
            "at": at,
        }
    return {"msgtype": "text", "text": {"content": message.body}, "at": at}


def robot_send_body(robot_code: str, message: OutgoingMessage, markdown: bool) -> dict[str, Any]:
    """A message for the robot's send OpenAPI (without the receiver)."""
    if markdown:
        key, param = "sampleMarkdown", {"title": title_of(message.body), "text": message.body}
    else:
        key, param = "sampleText", {"content": message.body}
    return {
        "robotCode": robot_code,
        "msgKey": key,
        "msgParam": json.dumps(param, ensure_ascii=False),
    }


def file_send_body(robot_code: str, media_id: str, file: FileRef) -> dict[str, Any]:
    """A file message for the robot's send OpenAPI (without the receiver): DingTalk's
    `sampleFile`, whose media id comes from the media upload."""
    param = {"mediaId": media_id, "fileName": file.name, "fileType": file.extension}
    return {
        "robotCode": robot_code,
        "msgKey": "sampleFile",
        "msgParam": json.dumps(param, ensure_ascii=False),
    }


def title_of(body: str) -> str:
    """A Markdown message's title: its first line, short (the notification shows it)."""
    return body.strip().splitlines()[0][:20] if body.strip() else "协商助手"

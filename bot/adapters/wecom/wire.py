"""WeCom's wire format: what a callback or a long-connection frame says, as the bot's types."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.clock import Clock
from bot.core.messages import (
    CardAction,
    IncomingMessage,
    Mention,
    ReplyRoute,
    mentioned_names,
)

PLATFORM = "wecom"
CARD_EVENT = "template_card_event"
KICKED_OUT = "disconnected_event"
# A member opens a chat with the bot (WeCom sends it on the first visit of the day): answered
# with a welcome within 5 seconds, or not at all.
ENTER_CHAT = "enter_chat"
# A card's task_id (unique per bot; digits, letters and `_-@` only) names the card's key:
# `xs-poll-12-<random>` for `poll:12` (cards sent before were `xs-poll-<id>-<number>-…`).
_TASK_ID = re.compile(r"^xs-([a-z]+)-(\d+)(?:-|$)")
# The submit button's key: `xs-poll-12` now, `vote-<id>-<number>` before.
_BUTTON_KEY = re.compile(r"^(?:xs-([a-z]+)|vote)-(\d+)(?:-\d+)?$")
# A stance card's button: `xs-stances-3-agree-12` (the card, the button's value, and the
# statement the member saw).
_BUTTON_VALUES = re.compile(r"^xs-[a-z]+-\d+-([a-z]+)-(\d+)$")


@dataclass(frozen=True, slots=True)
class CardSubmit:
    """A member's submit on one of the bot's cards."""

    card_key: str
    options: tuple[str, ...]
    task_id: str


def sender_of(body: Mapping[str, Any]) -> str:
    """The member's userid."""
    origin = body.get("from")
    return str(origin.get("userid", "")) if isinstance(origin, Mapping) else ""


def conversation_of(body: Mapping[str, Any]) -> tuple[str, bool]:
    """The conversation a callback belongs to (the group's chatid, or the member's userid
    for a single chat, which is also where WeCom takes a post to them) and whether it is a
    group."""
    sender = sender_of(body)
    if body.get("chattype") == "group" and body.get("chatid"):
        return str(body["chatid"]), True
    return str(body.get("chatid") or sender), False


def text_of(body: Mapping[str, Any]) -> str:
    """What a member wrote: text, the text parts of a mixed message, or a voice transcript."""
    kind = body.get("msgtype")
    if kind in ("text", "voice"):
        part = body.get(kind)
        return str(part.get("content", "")) if isinstance(part, Mapping) else ""
    if kind == "mixed":
        mixed = body.get("mixed")
        items = mixed.get("msg_item", []) if isinstance(mixed, Mapping) else []
        texts = [
            str(item["text"].get("content", ""))
            for item in items
            if isinstance(item, Mapping) and isinstance(item.get("text"), Mapping)
        ]
        return "\n".join(texts)
    return ""  # pictures and files carry no command; the dispatcher records and ignores them


def without_mention(text: str, bot_name: str) -> str:
    """The text with the @mention of the bot removed (WeCom leaves it in the content)."""
    return re.sub(rf"[@＠]{re.escape(bot_name)}\s*", "", text, count=1).strip()


def platform_time(body: Mapping[str, Any], clock: Clock) -> datetime:
    """When WeCom says the message was sent, or now if it does not say."""
    created = body.get("create_time")
    if isinstance(created, int | float) and not isinstance(created, bool) and created > 0:
        return datetime.fromtimestamp(created, UTC)
    return clock.now()


def incoming_message(
    body: Mapping[str, Any],
    *,
    bot_name: str,
    clock: Clock,
    route: ReplyRoute | None,
) -> IncomingMessage | None:
    """A message callback as the dispatcher takes it; None when it names no sender."""
    sender = sender_of(body)
    message_id = str(body.get("msgid", ""))
    if not sender or not message_id:
        return None
    conversation, is_group = conversation_of(body)
    text = without_mention(text_of(body), bot_name)
    try:
        return IncomingMessage(
            platform=PLATFORM,
            conversation_id=conversation,
            sender_id=sender,
            # WeCom gives a bot the member's userid only, never their display name.
            sender_name=sender,
            text=text,
            message_id=message_id,
            timestamp=platform_time(body, clock),
            # The 智能机器人 only receives group messages that @ it.
            addressed=True,
            is_group=is_group,
            route=route,
            # WeCom's callbacks name the members @-mentioned only as written in the text.
            mentions=tuple(Mention(name=name) for name in mentioned_names(text)),
            # WeCom hands the bot a voice message as its transcript.
            voice=body.get("msgtype") == "voice",
        )
    except ValueError:  # ids of nothing but invisible characters, or too long to keep
        return None


def card_click(submit: CardSubmit, body: Mapping[str, Any], clock: Clock) -> IncomingMessage | None:
    """A submit on a card as the dispatcher takes it; None when it names no sender."""
    sender = sender_of(body)
    message_id = str(body.get("msgid", ""))
    if not sender or not message_id:
        return None
    conversation, is_group = conversation_of(body)
    try:
        return IncomingMessage(
            platform=PLATFORM,
            conversation_id=conversation,
            sender_id=sender,
            sender_name=sender,
            text="",
            message_id=message_id,
            timestamp=platform_time(body, clock),
            is_group=is_group,
            action=CardAction(submit.card_key, submit.options),
        )
    except ValueError:  # ids of nothing but invisible characters, or too long to keep
        return None


def event_type(body: Mapping[str, Any]) -> str:
    """The kind of an event callback (WeCom spells the key `eventtype` or `event_type`)."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return ""
    return str(event.get("eventtype") or event.get("event_type") or "")


def card_submit(body: Mapping[str, Any]) -> CardSubmit | None:
    """A submit on one of our cards, or None for any other event.

    Both documented spellings are read: the callback documentation nests the fields under
    `event.template_card_event` with `selected_items.selected_item[].option_ids.option_id[]`;
    the long-connection SDK puts `event_key` and `task_id` directly in `event` and may give
    the lists bare.
    """
    if event_type(body) != CARD_EVENT:
        return None
    event = body["event"]
    nested = event.get(CARD_EVENT)
    data: Mapping[str, Any] = nested if isinstance(nested, Mapping) else event
    task_id = str(data.get("task_id") or data.get("taskid") or "")
    key = str(data.get("event_key") or data.get("eventkey") or "")
    found = _TASK_ID.match(task_id) or _BUTTON_KEY.match(key)
    if found is None:
        return None
    namespace = found.group(1) or "poll"  # the old button keys were a poll's
    options = tuple(_selected_options(data.get("selected_items")))
    buttons = _BUTTON_VALUES.match(key)  # a button_interaction card says it in its key
    return CardSubmit(
        card_key=f"{namespace}:{int(found.group(2))}",
        options=options or (buttons.groups() if buttons else ()),
        task_id=task_id,
    )


def _selected_options(selected: Any) -> Iterable[str]:
    if isinstance(selected, Mapping):
        selected = selected.get("selected_item", [])
    if isinstance(selected, Mapping):
        selected = [selected]
    for item in selected if isinstance(selected, list) else []:
        if not isinstance(item, Mapping):
            continue
        ids = item.get("option_ids", [])
        if isinstance(ids, Mapping):
            ids = ids.get("option_id", [])
        if isinstance(ids, str | int):
            ids = [ids]
        for option in ids if isinstance(ids, list) else []:
            if str(option).isdigit():
                yield str(int(option))


def key_part(card_key: str) -> str:
    """A card key as WeCom ids may spell it (`poll:12` → `poll-12`)."""
    return card_key.replace(":", "-")

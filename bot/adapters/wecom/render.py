"""What the bot sends to WeCom: cards laid out from the view their feature built (every
word comes from the view), and text as WeCom's markdown.

WeCom shows a vote card's texts only up to its recommended lengths (title 26 characters,
description 30, option 11): longer ones are cut here with "…", and a reply that carries a
cut card carries the poll's whole text beside it (`stream_with_template_card`). A markdown
or stream message holds at most 20,480 bytes; `fits` tells the outbox, which sends a
longer reply in parts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from bot.adapters.wecom.wire import key_part
from bot.core.messages import Kind, OutgoingMessage
from bot.core.text import markdown_inert, one_line
from bot.core.views import CardView, PollOptionView, PollView

MAX_CARD_OPTIONS = 20
BOT_NAME = "协商助手"
# WeCom's recommended lengths, in characters: what a phone shows of each text.
TITLE_CHARS = 26
DESC_CHARS = 30
OPTION_CHARS = 11
# The most a markdown or stream message's content may hold (UTF-8).
MAX_CONTENT_BYTES = 20480


def new_task_id(view: CardView) -> str:
    """A fresh card id (WeCom wants each card's task_id unique per bot) naming its card."""
    return f"xs-{key_part(view.key)}-{secrets.token_hex(6)}"


def can_be_card(view: CardView) -> bool:
    """Whether a poll fits a vote_interaction card (WeCom allows up to 20 options)."""
    return 2 <= len(view.options) <= MAX_CARD_OPTIONS


def vote_card(
    view: PollView, *, task_id: str, chosen: Iterable[int] = (), note: str = ""
) -> dict[str, Any]:
    """A poll as a vote_interaction card: the options with their counts, the member's
    choice ticked, the answer to their click, the traits and turnout below the question."""
    picked = set(chosen)
    button = view.revote_label if picked else view.vote_label
    return {
        "card_type": "vote_interaction",
        "source": {"desc": BOT_NAME},
        "main_title": {
            "title": one_line(_title(view), TITLE_CHARS),
            "desc": one_line(_facts(view, note), DESC_CHARS),
        },
        "checkbox": {
            "question_key": key_part(view.key),
            "mode": 1 if view.multiple else 0,
            "disable": view.closed,
            "option_list": [
                {
                    "id": str(option.number),
                    "text": _option_text(option),
                    "is_checked": option.number in picked,
                }
                for option in view.options
            ],
        },
        "submit_button": {
            "text": view.closed_label if view.closed else button,
            "key": f"xs-{key_part(view.key)}",
        },
        "task_id": task_id,
    }


def _title(view: PollView) -> str:
    return f"{view.title}：{view.question}"


def _facts(view: PollView, note: str) -> str:
    facts = [note] if note else []
    if view.closed:
        facts.append(view.status)
    return "，".join([*facts, *view.traits, view.turnout])


def _option_text(option: PollOptionView) -> str:
    """`支持（12）`: the option cut so that it and its count fit what WeCom shows."""
    count = f"（{option.votes}）"
    return one_line(option.text, max(OPTION_CHARS - len(count), 2)) + count


def card_is_cut(view: PollView) -> bool:
    """Whether the card shows any of the poll's words cut short (the question, an option)."""
    if len(_flat(_title(view))) > TITLE_CHARS:
        return True
    return any(
        _option_text(option) != f"{_flat(option.text)}（{option.votes}）" for option in view.options
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def shows_card(message: OutgoingMessage, *, vote_cards: bool) -> bool:
    """Whether the message goes out as a vote card rather than text."""
    view = message.card
    return message.kind is Kind.CARD and vote_cards and view is not None and can_be_card(view)


def markdown_content(message: OutgoingMessage) -> str:
    """A message's text as WeCom's markdown. WeCom's bot answers in markdown; the bot's text
    (quoting members) must stay text, while the minutes and letters (kind MARKDOWN) are
    markdown already escaped by their renderer."""
    return message.body if message.kind is Kind.MARKDOWN else markdown_inert(message.body)


def fits(message: OutgoingMessage, *, vote_cards: bool) -> bool:
    """Whether the message fits one WeCom message (a card or a file always does: their text
    is laid out, not sent)."""
    if message.kind is Kind.FILE or shows_card(message, vote_cards=vote_cards):
        return True
    return len(markdown_content(message).encode()) <= MAX_CONTENT_BYTES


def message_body(
    message: OutgoingMessage, *, vote_cards: bool, replying: bool = False
) -> dict[str, Any]:
    """The message as WeCom's `msgtype` + content: a vote card or markdown text. A reply to
    a member's message (`replying`) goes as a stream, and a cut card with the poll's whole
    text beside it."""
    view = message.card
    if view is not None and shows_card(message, vote_cards=vote_cards):
        card = vote_card(view, task_id=new_task_id(view))
        if replying and card_is_cut(view):
            return {
                "msgtype": "stream_with_template_card",
                "stream": _stream(markdown_content(message)),
                "template_card": card,
            }
        return {"msgtype": "template_card", "template_card": card}
    if replying:
        return {"msgtype": "stream", "stream": _stream(markdown_content(message))}
    return {"msgtype": "markdown", "markdown": {"content": markdown_content(message)}}


def _stream(content: str) -> dict[str, Any]:
    """A stream message sent whole at once (the bot never streams a reply in pieces)."""
    return {"id": secrets.token_hex(8), "finish": True, "content": content}

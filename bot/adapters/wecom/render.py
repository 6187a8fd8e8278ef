"""What the bot sends to WeCom: cards laid out from the view their feature built (every
word comes from the view), and text as WeCom's markdown."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from bot.adapters.wecom.wire import key_part
from bot.core.messages import Kind, OutgoingMessage
from bot.core.text import markdown_inert, one_line
from bot.core.views import CardView, PollView

MAX_CARD_OPTIONS = 20
BOT_NAME = "协商助手"


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
    facts = [note] if note else []
    if view.closed:
        facts.append(view.status)
    facts += [*view.traits, view.turnout]
    button = view.revote_label if picked else view.vote_label
    return {
        "card_type": "vote_interaction",
        "source": {"desc": BOT_NAME},
        "main_title": {
            "title": one_line(f"{view.title}：{view.question}", 36),
            "desc": one_line("，".join(facts), 60),
        },
        "checkbox": {
            "question_key": key_part(view.key),
            "mode": 1 if view.multiple else 0,
            "disable": view.closed,
            "option_list": [
                {
                    "id": str(option.number),
                    "text": f"{one_line(option.text, 20)}（{option.votes}）",
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


def message_body(message: OutgoingMessage, *, vote_cards: bool) -> dict[str, Any]:
    """The message as WeCom's `msgtype` + content: a vote card or markdown text."""
    view = message.card
    if message.kind is Kind.CARD and vote_cards and view is not None and can_be_card(view):
        return {
            "msgtype": "template_card",
            "template_card": vote_card(view, task_id=new_task_id(view)),
        }
    # WeCom's bot answers in markdown; the bot's text (quoting members) must stay text,
    # while the minutes (kind MARKDOWN) are markdown already escaped by their renderer.
    content = message.body if message.kind is Kind.MARKDOWN else markdown_inert(message.body)
    return {"msgtype": "markdown", "markdown": {"content": with_mentions(content, message)}}


def with_mentions(content: str, message: OutgoingMessage) -> str:
    """WeCom @s a member in markdown as `<@userid>`: the bot writes `@name`, and a WeCom
    member's name is their userid (made `＠` by `markdown_inert`, so no member can @)."""
    for user in message.mentions:
        for written in (f"＠{user}", f"@{user}"):
            content = content.replace(written, f"<@{user}>")
    return content

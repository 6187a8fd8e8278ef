"""What the bot sends to WeCom: cards laid out from the view their feature built (every
word comes from the view), and text as WeCom's markdown.

Cards follow WeCom's template card documentation for the 智能机器人: a poll is a
`vote_interaction` card, a stance card a `button_interaction` card (its `button_list` holds
at most 6 buttons whose keys are unique on the card; a click returns the key as `event_key`).
WeCom shows a card's texts only up to its recommended lengths (title 26 characters,
description 30, option 11): longer ones are cut here with "…", and a reply that carries a
cut vote card carries the poll's whole text beside it (`stream_with_template_card`). A
markdown or stream message holds at most 20,480 bytes; `fits` tells the outbox, which sends
a longer reply in parts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, TypeGuard

from bot.adapters.wecom.wire import key_part
from bot.core.messages import Kind, OutgoingMessage
from bot.core.text import markdown_inert, one_line
from bot.core.views import CardView, Deal, PollOptionView, PollView, StanceView

MAX_CARD_OPTIONS = 20
# WeCom shows at most 6 lines of a horizontal_content_list; its recommended lengths (longer
# text is cut on the phone): a title 26 characters, its description 30, a line's value 26.
MAX_CARD_LINES = 6
TITLE_CHARS = 26
DESC_CHARS = 30
LINE_CHARS = 26
BOT_NAME = "协商助手"
# A vote card's option: what a phone shows of it, its count included.
OPTION_CHARS = 11
# The most a markdown or stream message's content may hold (UTF-8).
MAX_CONTENT_BYTES = 20480


def new_task_id(view: CardView) -> str:
    """A fresh card id (WeCom wants each card's task_id unique per bot) naming its card."""
    return f"xs-{key_part(view.key)}-{secrets.token_hex(6)}"


def can_be_card(view: CardView) -> TypeGuard[PollView]:
    """Whether a poll fits a vote_interaction card (WeCom allows up to 20 options)."""
    return isinstance(view, PollView) and 2 <= len(view.options) <= MAX_CARD_OPTIONS


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


def stance_card(
    view: StanceView, *, task_id: str, deal: Deal | None = None, note: str = ""
) -> dict[str, Any]:
    """A stance card as a button_interaction card: the statement its buttons mark for this
    member quoted (the lead until they clicked, then the one dealt to them), the list of a
    /表态 card below it, and a button per stance whose key names that statement, so that a
    click says what the member saw (`xs-stances-3-agree-12`)."""
    shown = view.lead if deal is None else deal.statement
    prefix = f"xs-{key_part(view.key)}"
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": BOT_NAME},
        "main_title": {
            "title": one_line(view.title, TITLE_CHARS),
            "desc": one_line(note or view.status or view.hint, DESC_CHARS),
        },
    }
    if shown is not None:
        card["quote_area"] = {
            "title": f"{shown.ref} {shown.author}（{shown.kind}）",
            "quote_text": shown.text,
        }
        mine = f"你的表态：{deal.stance}" if deal is not None and deal.stance else ""
        card["sub_title_text"] = "　".join(part for part in (shown.marks, mine) if part)
    else:
        card["sub_title_text"] = view.finished
    if len(view.statements) > 1:
        card["horizontal_content_list"] = [
            {"keyname": line.ref, "value": one_line(f"{line.text}（{line.marks}）", LINE_CHARS)}
            for line in view.statements[:MAX_CARD_LINES]
        ]
    if view.closed or (shown is None and view.more is None):
        buttons = [{"text": view.closed_label, "key": f"{prefix}-closed-0"}]
    elif shown is None:
        assert view.more is not None
        buttons = [{"text": view.more.label, "key": f"{prefix}-{view.more.value}-0"}]
    else:
        buttons = [
            {"text": button.label, "key": f"{prefix}-{button.value}-{shown.number}"}
            for button in view.buttons
        ]
    return card | {"button_list": buttons, "task_id": task_id}


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
    markdown already escaped by their renderer. The members it @s are WeCom's `<@userid>`."""
    content = message.body if message.kind is Kind.MARKDOWN else markdown_inert(message.body)
    return with_mentions(content, message)


def fits(message: OutgoingMessage, *, vote_cards: bool) -> bool:
    """Whether the message fits one WeCom message (a card or a file always does: their text
    is laid out, not sent)."""
    if message.kind is Kind.FILE or shows_card(message, vote_cards=vote_cards):
        return True
    if message.kind is Kind.CARD and isinstance(message.card, StanceView):
        return True
    return len(markdown_content(message).encode()) <= MAX_CONTENT_BYTES


def message_body(
    message: OutgoingMessage,
    *,
    vote_cards: bool,
    stance_cards: bool = True,
    replying: bool = False,
) -> dict[str, Any]:
    """The message as WeCom's `msgtype` + content: a card or markdown text. A reply to a
    member's message (`replying`) goes as a stream, and a cut vote card with the poll's
    whole text beside it."""
    view = message.card
    if message.kind is Kind.CARD and stance_cards and isinstance(view, StanceView):
        card = stance_card(view, task_id=new_task_id(view))
        return {"msgtype": "template_card", "template_card": card}
    if isinstance(view, PollView) and shows_card(message, vote_cards=vote_cards):
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


def with_mentions(content: str, message: OutgoingMessage) -> str:
    """WeCom @s a member in markdown as `<@userid>`: the bot writes `@name`, and a WeCom
    member's name is their userid (made `＠` by `markdown_inert`, so no member can @)."""
    for user in message.mentions:
        for written in (f"＠{user}", f"@{user}"):
            content = content.replace(written, f"<@{user}>")
    return content

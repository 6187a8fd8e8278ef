"""A card's view laid out as DingTalk card parameters (see docs/dingtalk-poll-card.json):
every word comes from the view the feature built; this only places it."""

from __future__ import annotations

import json
from typing import Any

from bot.core.dispatcher import Outcome, Status
from bot.core.views import PollView

# What the clicker alone sees on a poll card (their choice, and the answer to their click).
PRIVATE_CARD_PARAMS = ("my_choice", "notice")


def poll_card_params(view: PollView) -> dict[str, str]:
    """A poll's view as the card's public variables (strings, lists as JSON)."""
    rows = [
        {
            "index": str(option.number),
            "text": option.text,
            "votes": str(option.votes),
            "share": option.share_text,
        }
        for option in view.options
    ]
    return {
        "title": view.title,
        "question": view.question,
        "traits": "，".join(view.traits),
        "status": view.status,
        "closed": "true" if view.closed else "false",
        "voters": str(view.voters),
        "options": json.dumps(rows, ensure_ascii=False),
        "tally": "\n".join(option.tally_line for option in view.options),
        "result": view.result,
        "hint": view.hint,
    }


def click_answer(outcome: Outcome) -> dict[str, Any]:
    """The clicker's own view of the card after their click: their choice and the bot's
    answer to them (an empty update for a click delivered twice)."""
    if outcome.status is Status.DUPLICATE:
        return {}  # the first delivery of this click already answered
    notice = "\n".join(outcome.replies)
    if outcome.status is Status.OK and outcome.answer is not None:
        return private_view(notice=notice, choice="、".join(outcome.answer.labels))
    return private_view(notice=notice)


def private_view(*, notice: str, choice: str | None = None) -> dict[str, Any]:
    """An update of the clicker's private card variables."""
    params = {"notice": notice}
    if choice is not None:
        params["my_choice"] = choice
    return {
        "cardUpdateOptions": {"updatePrivateDataByKey": True},
        "userPrivateData": {"cardParamMap": params},
    }

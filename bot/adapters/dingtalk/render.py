"""A card's view laid out as DingTalk card parameters (see docs/dingtalk-poll-card.json and
docs/dingtalk-statement-card.json): every word comes from the view the feature built; this
only places it."""

from __future__ import annotations

import json
from typing import Any

from bot.core.dispatcher import Outcome, Status
from bot.core.views import CardView, Deal, PollView, StanceView

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
        if outcome.answer.deal is not None:
            return stance_private_view(notice=notice, deal=outcome.answer.deal)
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


# What the clicker alone sees on a stance card: the statement its buttons now mark for them
# (dealt after their click), their mark on it, and the answer to their click.
PRIVATE_STANCE_PARAMS = (
    "my_number",
    "my_statement",
    "my_marks",
    "my_stance",
    "notice",
    "dealt",
    "finished",
)


def card_params(view: CardView) -> dict[str, str]:
    """A card's view as its template's public variables."""
    if isinstance(view, StanceView):
        return stance_card_params(view)
    return poll_card_params(view)


def stance_card_params(view: StanceView) -> dict[str, str]:
    """A stance card's view as the public variables of the statement card template: what
    everyone sees until they click (the lead statement) and the list a /表态 card deals."""
    lead = view.lead
    rows = [
        {
            "number": str(line.number),
            "ref": line.ref,
            "text": line.text,
            "author": line.author,
            "kind": line.kind,
            "marks": line.marks,
            "line": line.line,
        }
        for line in view.statements
    ]
    buttons = [{"value": button.value, "label": button.label} for button in view.buttons]
    return {
        "title": view.title,
        "status": view.status,
        "closed": "true" if view.closed else "false",
        "number": str(lead.number) if lead is not None else "",
        "statement": lead.line if lead is not None else view.finished,
        "marks": lead.marks if lead is not None else "",
        "statements": json.dumps(rows, ensure_ascii=False),
        "list": "\n".join(f"{line.line}　{line.marks}" for line in view.statements),
        "buttons": json.dumps(buttons, ensure_ascii=False),
        "hint": view.hint,
        "finished_text": view.finished,
        "more_label": view.more.label if view.more is not None else "",
        "more_value": view.more.value if view.more is not None else "",
    }


def stance_private_view(*, notice: str, deal: Deal) -> dict[str, Any]:
    """The clicker's own view of a stance card after their click: the statement dealt to
    them (whose number their next click sends), or that none is left."""
    shown = deal.statement
    params = {
        "notice": notice,
        "dealt": "true",
        "finished": "true" if shown is None else "false",
        "my_number": str(shown.number) if shown is not None else "",
        "my_statement": shown.line if shown is not None else "",
        "my_marks": shown.marks if shown is not None else "",
        "my_stance": deal.stance,
    }
    return {
        "cardUpdateOptions": {"updatePrivateDataByKey": True},
        "userPrivateData": {"cardParamMap": params},
    }

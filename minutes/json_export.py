"""The minutes as JSON for programs, in the schema of issue 5 with the overview, plan, research
notes, poll status and method of issue 16 (documented in docs/minutes.md)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from minutes.result import Minutes, Quote, StatementStanding


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: date) -> str:
    return value.isoformat()


def _quote(quote: Quote) -> dict[str, Any]:
    return {"id": quote.id, "text": quote.text, "author": quote.author}


def _standing(standing: StatementStanding) -> dict[str, Any]:
    return {
        **_quote(standing.quote),
        "agree": standing.stances.agree,
        "disagree": standing.stances.disagree,
        "pass": standing.stances.passed,
        "direction": standing.direction,
    }


def render_json(minutes: Minutes) -> dict[str, Any]:
    """A JSON-ready dict: consultation, participation, themes, chatter, duplicates, polls…"""
    info = minutes.consultation
    return {
        "consultation": {
            "id": info.id,
            "topic": info.topic,
            "group": info.group_name,
            "place": info.place,
            "started_at": _time(info.started_at),
            "ended_at": _time(info.ended_at),
            "moderators": list(info.moderators),
            "attendees": list(info.attendees),
            "observers": list(info.observers),
        },
        # 一、概况 of the record: the overview, the plan and the research notes, whole.
        "overview": {
            "text": minutes.overview,
            "plan": info.plan,
            "research_notes": [
                {
                    "id": note.id,
                    "text": note.text,
                    "author": note.author,
                    "created_at": _time(note.created_at),
                }
                for note in info.notes()
            ],
        },
        # How the themes were found: the sentence vectors of a model (its name), or words
        # alone and why, so that a program can tell a coarser version apart.
        "method": {"vectors": minutes.vectors_used, "fallback": minutes.fallback},
        "participation": asdict(minutes.participation),
        "themes": [
            {
                "title": theme.title,
                "keywords": list(theme.keywords),
                "opinions": [_quote(q) for q in theme.opinions],
                "representative": _quote(theme.representative),
                "members": list(theme.member_ids),
                "seconds": theme.seconds,
            }
            for theme in minutes.themes
        ],
        "chatter_ids": list(minutes.chatter_ids),
        "duplicates": [[a, b] for a, b in minutes.duplicates],
        "polls": [
            {
                "id": poll.id,
                "question": poll.question,
                "options": [{"text": o.text, "votes": o.votes} for o in poll.options],
                "voters": poll.voters,
                "anonymous": poll.anonymous,
                # "open": the counts are interim, not a result.
                "status": "closed" if poll.closed else "open",
            }
            for poll in minutes.polls
        ],
        "consensus": [_standing(s) for s in minutes.consensus],
        "divisive": [_standing(s) for s in minutes.divisive],
        "suggestions": [
            {**_quote(s.quote), "seconds": len(s.seconds)} for s in minutes.suggestions
        ],
        "follow_up": {
            "signoffs": [
                {
                    "leader": s.leader,
                    "title": s.title,
                    "signed_on": _day(s.signed_on),
                    "instruction": s.instruction,
                    "referral": s.referral,
                }
                for s in minutes.follow_up.signoffs
            ],
            "documents": [
                {
                    "issuer": d.issuer,
                    "number": d.number,
                    "title": d.title,
                    "issued_on": _day(d.issued_on),
                    "referral": d.referral,
                }
                for d in minutes.follow_up.documents
            ],
        },
    }

"""The hook for an optional language model: better theme titles and overview, nothing else.

The HTTP call lives in the bot. Here: the prompt it sends (`polish_prompt`) and the pure,
defensive merge of what came back (`apply_polish`). Quotes, ids and figures are never taken
from the model: titles and the overview must be short plain text, and every number in the
overview must be a figure the minutes already carry, or the offline wording stands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from minutes.result import Minutes

MAX_TITLE_CHARS = 20
MAX_OVERVIEW_CHARS = 300
# Markup, links, mentions and code: whatever could turn into structure in a chat or a document.
_MARKUP = re.compile(r"[#*_`<>\[\]{}|\\~]|https?://|www\.|@|＠|^\s*[-+>]|^\s*\d+[.)]\s", re.M)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class PolishResult:
    """The polished minutes and the reasons any part of the model's answer was refused."""

    minutes: Minutes
    rejected: tuple[str, ...]


def plain_text_problem(text: str, max_chars: int) -> str | None:
    """Why a model's text is unfit to print (None when it is short, plain, one-line text)."""
    stripped = text.strip()
    if not stripped:
        return "empty"
    if len(stripped) > max_chars:
        return f"longer than {max_chars} characters"
    if "\n" in stripped or _CONTROL.search(stripped):
        return "not a single line"
    if _MARKUP.search(stripped):
        return "contains markup, a link or a mention"
    return None


def _known_figures(minutes: Minutes) -> set[str]:
    p = minutes.participation
    figures = {
        p.statements, p.opinions, p.suggestions, p.remarks, p.speakers, p.chatter,
        p.stances, p.stance_members, p.seconds, p.poll_voters, p.attendees,
        len(minutes.themes), len(minutes.polls), len(minutes.consensus), len(minutes.divisive),
        len(minutes.opinion_groups), len(minutes.suggestions),
    }  # fmt: skip
    for theme in minutes.themes:
        figures |= {len(theme.opinions), len(theme.member_ids), theme.seconds}
        figures |= {q.id for q in theme.opinions}
    for poll in minutes.polls:
        figures |= {poll.id, poll.voters, *(o.votes for o in poll.options)}
        if poll.voters:
            figures |= {round(100 * o.votes / poll.voters) for o in poll.options}
    text_numbers = set(_NUMBER.findall(minutes.consultation.topic))
    return {str(f) for f in figures} | text_numbers


def apply_polish(
    minutes: Minutes, titles: Mapping[int, str], overview: str | None = None
) -> PolishResult:
    """New minutes with the model's theme titles (by theme index) and overview, if fit."""
    rejected: list[str] = []
    themes = list(minutes.themes)
    for index, title in titles.items():
        if not 0 <= index < len(themes):
            rejected.append(f"title for unknown theme {index}")
            continue
        problem = plain_text_problem(title, MAX_TITLE_CHARS)
        if problem:
            rejected.append(f"title {index}: {problem}")
            continue
        themes[index] = replace(themes[index], title=title.strip())
    new_overview = minutes.overview
    if overview is not None:
        problem = plain_text_problem(overview, MAX_OVERVIEW_CHARS)
        if problem is None:
            unknown = set(_NUMBER.findall(overview)) - _known_figures(minutes)
            if unknown:
                problem = f"figures not in the minutes: {', '.join(sorted(unknown))}"
        if problem:
            rejected.append(f"overview: {problem}")
        else:
            new_overview = overview.strip()
    changed = new_overview != minutes.overview or themes != list(minutes.themes)
    polished = replace(
        minutes,
        themes=tuple(themes),
        overview=new_overview,
        polished=minutes.polished or changed,
    )
    return PolishResult(polished, tuple(rejected))


def polish_prompt(minutes: Minutes, *, opinions_per_theme: int = 5) -> str:
    """The request for the model: a title per theme and an overview, as JSON, from the themes."""
    lines = [
        "你是政协“请你来协商”活动的秘书。下面是一次协商中按主题归纳的群众意见。",
        f"请为每个主题写一个不超过{MAX_TITLE_CHARS}字的标题，并写一段不超过"
        f"{MAX_OVERVIEW_CHARS}字的概况。只用纯文本，不要编造数字，不要引用原文。",
        '按 JSON 返回：{"titles": {"0": "标题", ...}, "overview": "概况"}',
        f"议题：{minutes.consultation.topic}",
        f"统计：{minutes.overview}",
    ]
    for index, theme in enumerate(minutes.themes):
        lines.append(
            f"主题{index}（{len(theme.opinions)}条，关键词：{'、'.join(theme.keywords)}）："
        )
        sample = [theme.representative] + [
            q for q in theme.opinions if q.id != theme.representative.id
        ]
        lines.extend(f"- {q.text}" for q in sample[:opinions_per_theme])
    return "\n".join(lines)

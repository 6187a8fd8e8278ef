"""The minutes of a consultation from what the database holds: built offline by the pure
`minutes` package, optionally polished by a language model, rendered and stored as a version.

Nothing here runs inside the dispatcher's transaction: building reads in a session of its
own on a worker thread, and the model is asked over aiohttp, so a slow summary or a slow
model never holds up the messages of the group.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

import minutes
from bot.config import LLMSettings, Settings
from bot.secrets import env_secret
from storage.attendance import consultation_attendance
from storage.consultations import get_consultation
from storage.enums import PollStatus, Role
from storage.groups import get_group
from storage.minutes import (
    consultation_seconds,
    consultation_stances,
    consultation_statements,
    consultation_vectors,
)
from storage.models import Poll
from storage.plans import get_plan, list_research_notes
from storage.polls import tally

log = logging.getLogger(__name__)

LLM_API_KEY = "XIESHANG_LLM_API_KEY"
# The model whose stored vectors the minutes use (the background task computes them).
VECTOR_MODEL = minutes.E5Embedder.name


def method_name(summary: minutes.Minutes) -> str:
    """What a stored version records of how it was built: "e5" or "tfidf"."""
    return "tfidf" if summary.method == "tfidf" else "e5"


def full_text_hint(consultation_id: int) -> str:
    """The last line of the group's Markdown: where the whole record is."""
    return f"完整纪要（Word、JSON）请秘书导出：xieshang minutes {consultation_id} --format docx"


# --- building, offline -----------------------------------------------------------------


def build_minutes(session: Session, consultation_id: int, settings: Settings) -> minutes.Minutes:
    """The minutes of the consultation from its stored rows and vectors, without a model.

    Raises LookupError when there is no such consultation.
    """
    info = _consultation_info(session, consultation_id)
    rows = consultation_statements(session, consultation_id=consultation_id)
    by_id = {row.id: row for row in rows}
    seconds = consultation_seconds(session, consultation_id=consultation_id)
    statements = [
        minutes.Statement(
            id=row.number,
            text=row.text,
            author=row.author,
            author_id=str(row.member_id),
            kind=row.kind.value,  # the three kinds share their names
            created_at=row.created_at,
            seconds=tuple(str(m) for m in seconds.get(row.id, ())),
            retracted=row.retracted,
        )
        for row in rows
    ]
    stances = [
        minutes.Stance(
            statement_id=by_id[opinion_id].number,
            member_id=str(member_id),
            value=value,  # type: ignore[arg-type]  # stored as 1, -1 or 0
        )
        for opinion_id, member_id, value in consultation_stances(
            session, consultation_id=consultation_id
        )
        if opinion_id in by_id
    ]
    stored = consultation_vectors(session, consultation_id=consultation_id, model=VECTOR_MODEL)
    live = [row for row in rows if not row.retracted]
    # All or nothing: with any live statement lacking a vector the summary uses words alone.
    vectors = (
        {row.number: minutes.vector_from_bytes(stored[row.id]) for row in live}
        if live and all(row.id in stored for row in live)
        else None
    )
    return minutes.summarize(
        info, statements, stances, _polls(session, consultation_id), vectors=vectors
    )


def _consultation_info(session: Session, consultation_id: int) -> minutes.ConsultationInfo:
    consultation = get_consultation(session, consultation_id=consultation_id)
    group = get_group(session, group_id=consultation.group_id)
    plan = get_plan(session, consultation_id=consultation_id)
    notes = list_research_notes(session, consultation_id=consultation_id)
    attendance = consultation_attendance(session, consultation_id=consultation_id)
    moderators = [p.name for p in attendance.participants if Role.MODERATOR in p.roles]
    plan_text = None
    if plan is not None:
        parts = [plan.schedule, plan.notes, "、".join(plan.departments)]
        plan_text = "；".join(part for part in parts if part) or None
    return minutes.ConsultationInfo(
        id=consultation_id,
        topic=consultation.topic,
        group_name=group.title or group.conversation_id,
        started_at=consultation.opened_at,
        ended_at=consultation.closed_at,
        moderators=tuple(moderators),
        attendees=tuple(p.name for p in attendance.participants if p.name not in moderators),
        observers=tuple(f"{g.department}{g.title}{g.name}" for g in attendance.guests),
        place=(plan.place or None) if plan is not None else None,
        plan=plan_text,
        research_notes=tuple(note.text for note in notes),
    )


def _polls(session: Session, consultation_id: int) -> list[minutes.PollSummary]:
    """Every poll with the bot's own count of its ballots (the minutes never recount)."""
    polls = session.exec(
        select(Poll).where(Poll.consultation_id == consultation_id).order_by(col(Poll.number))
    )
    summaries = []
    for poll in polls:
        counted = tally(session, poll=poll)
        summaries.append(
            minutes.PollSummary(
                id=poll.number,
                question=poll.question,
                options=tuple(
                    minutes.PollOption(text, votes)
                    for text, votes in zip(poll.options, counted.votes, strict=True)
                ),
                voters=counted.voters,
                anonymous=poll.anonymous,
                multiple=poll.multiple,
                closed=poll.status is PollStatus.CLOSED,
            )
        )
    return summaries


def build_in_own_session(engine: Engine, consultation_id: int, settings: Settings) -> Any:
    """`build_minutes` in a short read-only session of its own (for a worker thread)."""
    with Session(engine) as session:
        return build_minutes(session, consultation_id, settings)


# --- polishing, online -----------------------------------------------------------------


class _Transient(Exception):
    """Worth another try: a timeout, a lost connection, a 5xx or 429 answer."""


class _Unusable(Exception):
    """Not worth another try: a 4xx answer or a reply that is not the JSON asked for."""


async def polish_minutes(
    summary: minutes.Minutes, llm: LLMSettings, *, api_key: str | None = None
) -> minutes.Minutes:
    """The minutes with the model's titles and overview where `apply_polish` accepts them;
    the offline minutes when no model is configured or it fails in any way."""
    if not llm.enabled or not summary.themes:
        return summary
    key = api_key if api_key is not None else env_secret(LLM_API_KEY)
    try:
        titles, overview = await _ask_model(minutes.polish_prompt(summary), llm, key)
    except (_Transient, _Unusable) as error:
        # The reason is ours (status, "timeout"…), never a header: the key stays out of logs.
        log.warning("minutes polish skipped, the offline wording stands: %s", error)
        return summary
    result = minutes.apply_polish(summary, titles, overview)
    if result.rejected:
        log.warning("minutes polish partly refused: %s", "; ".join(result.rejected))
    return result.minutes


async def _ask_model(
    prompt: str, llm: LLMSettings, key: str | None
) -> tuple[dict[int, str], str | None]:
    url = llm.base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = {
        "model": llm.model,
        "messages": [
            {"role": "system", "content": "你只输出 JSON，不输出其他内容。"},
            {"role": "user", "content": prompt},
        ],
        "temperature": 0.2,
    }
    timeout = aiohttp.ClientTimeout(total=llm.timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(llm.attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        ):
            with attempt:
                answer = await _post(http, url, headers, request)
    return _parse_answer(answer)


async def _post(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], request: dict[str, Any]
) -> Any:
    try:
        async with http.post(url, json=request, headers=headers) as response:
            if response.status >= 500 or response.status == 429:
                raise _Transient(f"HTTP {response.status}")
            if response.status >= 400:
                raise _Unusable(f"HTTP {response.status}")
            return await response.json(content_type=None)
    except TimeoutError as error:
        raise _Transient("timeout") from error
    except aiohttp.ClientConnectionError as error:
        raise _Transient(f"connection failed ({type(error).__name__})") from error
    except (aiohttp.ContentTypeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _Unusable("the answer is not JSON") from error


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def _parse_answer(answer: Any) -> tuple[dict[int, str], str | None]:
    """The titles by theme index and the overview from an OpenAI-style chat answer."""
    try:
        content = answer["choices"][0]["message"]["content"]
        data = json.loads(_FENCE.sub("", content))
    except (KeyError, IndexError, TypeError, json.JSONDecodeError) as error:
        raise _Unusable("the model's answer is not the JSON asked for") from error
    if not isinstance(data, Mapping):
        raise _Unusable("the model's answer is not a JSON object")
    raw_titles = data.get("titles")
    titles: dict[int, str] = {}
    if isinstance(raw_titles, Mapping):
        for index, title in raw_titles.items():
            if str(index).isdigit() and isinstance(title, str):
                titles[int(index)] = title
    overview = data.get("overview")
    return titles, overview if isinstance(overview, str) else None


# --- rendering -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedMinutes:
    """One version's content, ready to store."""

    markdown: str
    body: dict[str, Any]
    docx: bytes
    method: str


def render_all(summary: minutes.Minutes) -> RenderedMinutes:
    """Markdown for the group, JSON for programs, DOCX for the record."""
    return RenderedMinutes(
        markdown=minutes.render_markdown(
            summary, full_text_hint=full_text_hint(summary.consultation.id)
        ),
        body=minutes.render_json(summary),
        docx=minutes.render_docx(summary),
        method=method_name(summary),
    )


async def prepare_minutes(
    engine: Engine, consultation_id: int, settings: Settings
) -> RenderedMinutes:
    """Build (worker thread), polish (network, optional) and render (worker thread)."""
    summary = await asyncio.to_thread(build_in_own_session, engine, consultation_id, settings)
    summary = await polish_minutes(summary, settings.minutes.llm)
    return await asyncio.to_thread(render_all, summary)


def version_label(number: int, created_at: datetime, settings: Settings) -> str:
    """`第 2 版（11月24日 15:30）` for messages about a stored version."""
    local = created_at.astimezone(settings.zone)
    return f"第 {number} 版（{local.month}月{local.day}日 {local:%H:%M}）"

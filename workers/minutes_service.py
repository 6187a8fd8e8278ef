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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

import minutes
from bot.core.secrets import env_secret
from bot.core.settings import LLMSettings, Settings
from storage.attendance import Attendance, consultation_attendance
from storage.consultations import get_consultation
from storage.enums import PollStatus, Role
from storage.followup import follow_up
from storage.groups import get_group, member_names
from storage.minutes import (
    consultation_seconds,
    consultation_stances,
    consultation_statements,
    consultation_vectors,
)
from storage.plans import get_plan, list_research_notes
from storage.polls import list_polls, tally
from workers.embeddings import vector_model
from workers.openai_http import TransientError, UnusableAnswer, ask_json
from workers.vectors import VECTORS_DISABLED, VECTORS_FAILED, SentenceVectors

log = logging.getLogger(__name__)

LLM_API_KEY = "XIESHANG_LLM_API_KEY"


def method_name(summary: minutes.Minutes, settings: Settings) -> str:
    """What a stored version records of how it was built: "tfidf" (words alone), "e5" (the
    bundled model's vectors) or "embeddings" (an endpoint's vectors)."""
    if summary.method == "tfidf":
        return "tfidf"
    return "embeddings" if settings.minutes.vectors.remote else "e5"


def full_text_hint(consultation_id: int) -> str:
    """The last line of the group's Markdown: where the whole record is."""
    # The Word file follows the Markdown in the group (a link where the platform takes no
    # files); members have no command line, and the console keeps every version too.
    return f"完整纪要（Word 版）随后发送，秘书也可在协商助手后台下载（协商 {consultation_id}）。"


# --- building, offline -----------------------------------------------------------------


def build_minutes(
    session: Session,
    consultation_id: int,
    settings: Settings,
    *,
    vectors_problem: str | None = None,
) -> minutes.Minutes:
    """The minutes of the consultation from its stored rows and vectors, without a model.
    `vectors_problem`: why the missing vectors could not be made just before (said in the
    minutes if they are built on words alone).

    Raises LookupError when there is no such consultation.
    """
    attendance = consultation_attendance(session, consultation_id=consultation_id)
    info = _consultation_info(session, consultation_id, attendance)
    roles = _speaker_roles(attendance)
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
            role=roles.get(row.member_id, "member"),
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
    model = vector_model(settings)
    stored = consultation_vectors(session, consultation_id=consultation_id, model=model)
    live = [row for row in rows if not row.retracted]
    # All or nothing: with any live statement lacking a vector (or an endpoint that changed
    # its vectors' size under one model name) the summary uses words alone.
    vectors = (
        {row.number: minutes.vector_from_bytes(stored[row.id]) for row in live}
        if live
        and all(row.id in stored for row in live)
        and len({len(stored[row.id]) for row in live}) == 1
        else None
    )
    summary = minutes.summarize(
        info, statements, stances, _polls(session, consultation_id), vectors=vectors
    )
    if vectors is not None:
        reason = None
    elif not settings.minutes.vectors.enabled:
        reason = VECTORS_DISABLED
    else:
        # No problem reported: some statements came after the vectors were made, or the
        # endpoint changed its vectors' size (the minutes' default reason says so).
        reason = vectors_problem
    return replace(
        summary,
        follow_up=_follow_up(session, consultation_id),
        vector_model=model if vectors is not None else None,
        words_only_reason=reason,
    )


def _follow_up(session: Session, consultation_id: int) -> minutes.FollowUp:
    """The leaders' 签批 and the documents issued so far, for the minutes' last section."""
    records = follow_up(session, consultation_id=consultation_id)
    return minutes.FollowUp(
        signoffs=tuple(
            minutes.Signoff(
                leader=s.leader,
                title=s.title,
                signed_on=s.signed_on,
                instruction=s.instruction,
                referral=s.referral_number,
            )
            for s in records.signoffs
        ),
        documents=tuple(
            minutes.IssuedDocument(
                issuer=d.issuer.label,
                number=d.doc_number,
                title=d.title,
                issued_on=d.issued_on,
                referral=d.referral_number,
            )
            for d in records.documents
        ),
    )


def _speaker_roles(attendance: Attendance) -> dict[int, minutes.SpeakerRole]:
    """The staff's role in the consultation by member id (the summarizer sets apart how the
    meeting is run from what members said); everyone else is a member."""
    roles: dict[int, minutes.SpeakerRole] = {}
    for person in attendance.staff:
        if Role.MODERATOR in person.roles:
            roles[person.member_id] = "moderator"
        elif Role.SECRETARY in person.roles:
            roles[person.member_id] = "secretary"
        elif Role.LIAISON in person.roles:
            roles[person.member_id] = "liaison"
    return roles


def _consultation_info(
    session: Session, consultation_id: int, attendance: Attendance
) -> minutes.ConsultationInfo:
    consultation = get_consultation(session, consultation_id=consultation_id)
    group = get_group(session, group_id=consultation.group_id)
    plan = get_plan(session, consultation_id=consultation_id)
    notes = list_research_notes(session, consultation_id=consultation_id)
    authors = member_names(session, member_ids={note.member_id for note in notes})
    # 主持人 from the staff; the other staff (秘书, 部门联络员) sit in as 列席 with their role,
    # beside the leaders and department representatives recorded with /出席.
    moderators = [p.name for p in attendance.staff if Role.MODERATOR in p.roles]
    sitting_in = [
        f"{p.name}（{'、'.join(role.label for role in p.roles if role is not Role.MEMBER)}）"
        for p in attendance.staff
        if Role.MODERATOR not in p.roles
    ]
    plan_text = None
    if plan is not None:
        # Labelled, as the plan reads in the group (the place has its own line).
        parts = [
            ("时间", plan.schedule),
            ("邀请部门", "、".join(plan.departments)),
            ("邀请领导", "、".join(plan.leaders)),
            ("说明", plan.notes),
        ]
        plan_text = "；".join(f"{label}：{value}" for label, value in parts if value) or None
    return minutes.ConsultationInfo(
        id=consultation_id,
        topic=consultation.topic,
        group_name=group.title or group.conversation_id,
        started_at=consultation.opened_at,
        ended_at=consultation.closed_at,
        moderators=tuple(moderators),
        attendees=tuple(p.name for p in attendance.participants),
        observers=(
            *(f"{g.department}{g.title}{g.name}" for g in attendance.guests),
            *sitting_in,
        ),
        place=(plan.place or None) if plan is not None else None,
        plan=plan_text,
        research_notes=tuple(
            minutes.ResearchNote(
                id=note.number,
                text=note.text,
                author=authors.get(note.member_id, ""),
                created_at=note.created_at,
            )
            for note in notes
        ),
    )


def _polls(session: Session, consultation_id: int) -> list[minutes.PollSummary]:
    """Every poll with the bot's own count of its ballots (the minutes never recount)."""
    summaries = []
    for poll in list_polls(session, consultation_id=consultation_id):
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


def build_in_own_session(
    engine: Engine, consultation_id: int, settings: Settings, vectors_problem: str | None = None
) -> Any:
    """`build_minutes` in a short read-only session of its own (for a worker thread)."""
    with Session(engine) as session:
        return build_minutes(session, consultation_id, settings, vectors_problem=vectors_problem)


# --- polishing, online -----------------------------------------------------------------


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
    except (TransientError, UnusableAnswer) as error:
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
    request = {
        "model": llm.model,
        "messages": [
            {"role": "system", "content": "你只输出 JSON，不输出其他内容。"},
            {"role": "user", "content": prompt},
        ],
        "temperature": 0.2,
    }
    url = llm.base_url.rstrip("/") + "/chat/completions"
    answer = await ask_json(
        url, request, key=key, timeout_seconds=llm.timeout_seconds, attempts=llm.attempts
    )
    return _parse_answer(answer)


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def _parse_answer(answer: Any) -> tuple[dict[int, str], str | None]:
    """The titles by theme index and the overview from an OpenAI-style chat answer."""
    try:
        content = answer["choices"][0]["message"]["content"]
        data = json.loads(_FENCE.sub("", content))
    except (KeyError, IndexError, TypeError, json.JSONDecodeError) as error:
        raise UnusableAnswer("the model's answer is not the JSON asked for") from error
    if not isinstance(data, Mapping):
        raise UnusableAnswer("the model's answer is not a JSON object")
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
    # The model whose vectors were used, or None and why words alone were.
    vectors: str | None = None
    fallback: str | None = None

    def how(self) -> str:
        """How the themes were found, for the operator."""
        if self.vectors is not None:
            return f"使用语义向量 {self.vectors}"
        if self.fallback is not None:
            return f"未使用语义向量（{self.fallback}），主题仅按字词归纳"
        return "无发言可归纳"


def render_all(summary: minutes.Minutes, settings: Settings) -> RenderedMinutes:
    """Markdown for the group, JSON for programs, DOCX for the record."""
    return RenderedMinutes(
        markdown=minutes.render_markdown(
            summary, full_text_hint=full_text_hint(summary.consultation.id)
        ),
        body=minutes.render_json(summary),
        docx=minutes.render_docx(summary),
        method=method_name(summary, settings),
        vectors=summary.vectors_used,
        fallback=summary.fallback,
    )


async def prepare_minutes(
    engine: Engine, consultation_id: int, settings: Settings, *, vectors_problem: str | None = None
) -> RenderedMinutes:
    """Build (worker thread), polish (network, optional) and render (worker thread)."""
    summary = await asyncio.to_thread(
        build_in_own_session, engine, consultation_id, settings, vectors_problem
    )
    summary = await polish_minutes(summary, settings.minutes.llm)
    return await asyncio.to_thread(render_all, summary, settings)


async def make_minutes(
    vectors: SentenceVectors, consultation_id: int, settings: Settings
) -> RenderedMinutes:
    """A new version's content, the one way `/纪要` and `xieshang minutes` make it: first the
    vectors its statements still lack (the minutes use vectors only when every statement
    has one), then build, polish and render. Should the vectors fail, the minutes come on
    words alone and say why, rather than not at all."""
    problem = None
    if settings.minutes.vectors.enabled:
        try:
            problem = (await vectors.fill(consultation_id=consultation_id)).problem
        except Exception:
            log.exception("vectors of consultation %s not made; minutes use words", consultation_id)
            problem = VECTORS_FAILED
    return await prepare_minutes(
        vectors.database.engine, consultation_id, settings, vectors_problem=problem
    )


def version_label(number: int, created_at: datetime, settings: Settings) -> str:
    """`第 2 版（11月24日 15:30）` for messages about a stored version."""
    local = created_at.astimezone(settings.zone)
    return f"第 {number} 版（{local.month}月{local.day}日 {local:%H:%M}）"

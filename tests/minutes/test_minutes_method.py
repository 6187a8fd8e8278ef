"""The minutes say how their themes were found: with which model's sentence vectors, or on
words alone and why, in the JSON for programs and in the text a secretary reads."""

from __future__ import annotations

import io
from dataclasses import replace

import docx
import numpy as np

from minutes import (
    ConsultationInfo,
    Minutes,
    Statement,
    render_docx,
    render_json,
    render_markdown,
    summarize,
)
from minutes.docx_export import SECTIONS

MODEL = "test/two-camps"
NOTE = "本版纪要未使用语义向量"


def with_vectors(info: ConsultationInfo, statements: list[Statement]) -> Minutes:
    """Minutes whose every statement had a stored vector of MODEL."""
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((len(statements), 16)).astype(np.float32)
    vectors = {s.id: row / np.linalg.norm(row) for s, row in zip(statements, rows, strict=True)}
    return replace(summarize(info, statements, vectors=vectors), vector_model=MODEL)


def docx_paragraphs(minutes: Minutes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(render_docx(minutes))).paragraphs]


def test_minutes_built_with_vectors_name_the_model_and_carry_no_note(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = with_vectors(info, statements)

    assert render_json(minutes)["method"] == {"vectors": MODEL, "fallback": None}
    assert NOTE not in render_markdown(minutes)
    assert not any(NOTE in text for text in docx_paragraphs(minutes))


def test_a_words_only_version_says_so_and_why_in_every_format(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = replace(summarize(info, statements), words_only_reason="向量服务暂时无法访问")

    assert render_json(minutes)["method"] == {"vectors": None, "fallback": "向量服务暂时无法访问"}
    markdown = render_markdown(minutes)
    assert "> 注：本版纪要未使用语义向量（向量服务暂时无法访问），主题和闲聊仅按字词" in markdown
    assert markdown.index(NOTE) < markdown.index("**主要意见**")
    paragraphs = docx_paragraphs(minutes)
    [note] = [i for i, text in enumerate(paragraphs) if NOTE in text]
    assert "向量服务暂时无法访问" in paragraphs[note]
    # In 一、概况, just before the themes it qualifies.
    assert paragraphs.index(SECTIONS[0]) < note < paragraphs.index(SECTIONS[1])


def test_words_alone_without_a_reason_given_says_some_vectors_are_missing(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements, vectors={statements[0].id: np.ones(16)})

    assert render_json(minutes)["method"] == {"vectors": None, "fallback": "部分发言还没有语义向量"}
    assert "（部分发言还没有语义向量）" in render_markdown(minutes)


def test_vectors_of_an_unnamed_model_still_count_as_vectors(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = replace(with_vectors(info, statements), vector_model=None)

    assert render_json(minutes)["method"] == {"vectors": "unnamed", "fallback": None}


def test_a_consultation_where_nothing_was_said_needs_no_note(info: ConsultationInfo) -> None:
    minutes = summarize(info, [])

    assert render_json(minutes)["method"] == {"vectors": None, "fallback": None}
    assert NOTE not in render_markdown(minutes)
    assert not any(NOTE in text for text in docx_paragraphs(minutes))

"""The record: a Word file in the 纪要 layout that opens and carries every section."""

from __future__ import annotations

import io

import docx
from docx.oxml.ns import qn

from minutes import ConsultationInfo, PollSummary, Stance, Statement, render_docx, summarize
from minutes.docx_export import SECTIONS
from tests.minutes.support import StatementFactory, all_quotes


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def test_the_docx_opens_and_carries_the_sections(
    info: ConsultationInfo, statements: list[Statement], stances: list[Stance], poll: PollSummary
) -> None:
    document = open_docx(render_docx(summarize(info, statements, stances, [poll])))
    texts = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(SECTIONS)
    assert document.paragraphs[0].style.name == "Title"
    assert "议题：夜市延长营业时间" in texts
    assert "主持人：王主任" in texts
    assert any(t.startswith("出席：") for t in texts)
    assert "列席：区商务局" in texts


def test_every_quote_appears_verbatim_with_its_id(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    body = "\n".join(p.text for p in open_docx(render_docx(minutes)).paragraphs)
    for quote in all_quotes(minutes):
        assert quote.text in body
        assert f"#{quote.id}" in body


def test_poll_table_numbers_equal_the_ballots(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary
) -> None:
    document = open_docx(render_docx(summarize(info, statements, polls=[poll])))
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows[0] == ["选项", "票数", "占投票人数"]
    assert [(r[0], int(r[1])) for r in rows[1:]] == [(o.text, o.votes) for o in poll.options]


def test_chinese_fonts_are_set_for_east_asian_text(info: ConsultationInfo) -> None:
    document = open_docx(render_docx(summarize(info, [])))

    def east_asian(style_name: str) -> str | None:
        fonts = document.styles[style_name].element.rPr.rFonts
        return fonts.get(qn("w:eastAsia"))

    assert east_asian("Normal") == "仿宋_GB2312"
    assert east_asian("Heading 1") == "黑体"
    assert east_asian("Title") == "方正小标宋简体"


def test_control_characters_from_members_do_not_break_the_file(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    said = statement_factory([("m01", "夜市\x00停车\x1b位不够，建议规划", "suggestion")])
    document = open_docx(render_docx(summarize(info, said)))
    assert any("夜市停车位不够" in p.text for p in document.paragraphs)

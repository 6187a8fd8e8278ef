"""The record: a Word file in the 纪要 layout that opens and carries every section."""

from __future__ import annotations

import io
import re

import docx
from docx.oxml.ns import qn

from minutes import (
    ConsultationInfo,
    PollOption,
    PollSummary,
    Stance,
    Statement,
    render_docx,
    summarize,
)
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


def footer_xml(document: docx.document.Document, which: str) -> str:
    footer = getattr(document.sections[0], which)
    return str(footer._element.xml)


def test_pages_are_numbered_outside_odd_right_even_left(info: ConsultationInfo) -> None:
    document = open_docx(render_docx(summarize(info, [])))
    assert document.settings.odd_and_even_pages_header_footer
    for which, side in (("footer", "right"), ("even_page_footer", "left")):
        xml = footer_xml(document, which)
        assert 'w:instr=" PAGE "' in xml
        assert f'<w:jc w:val="{side}"/>' in xml
        assert "— " in xml
        assert " —" in xml


def test_a_suggestion_is_listed_once_and_its_theme_points_to_it(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    assert minutes.suggestions
    body = [p.text for p in open_docx(render_docx(minutes)).paragraphs]
    for suggestion in minutes.suggestions:
        lines = [t for t in body if suggestion.quote.text in t]
        representative = any(t.representative.id == suggestion.quote.id for t in minutes.themes)
        assert len(lines) == (2 if representative else 1), suggestion.quote.text
    pointers = [t for t in body if t.startswith("另有本主题建议")]
    listed_in_themes = sum(
        1
        for theme in minutes.themes
        for q in theme.opinions
        if q.id != theme.representative.id and q.id in {s.quote.id for s in minutes.suggestions}
    )
    assert sum(int(t.removeprefix("另有本主题建议").split("条")[0]) for t in pointers) == (
        listed_in_themes
    )


def test_every_statement_of_a_fold_names_the_others(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    folds = [fold for theme in minutes.themes for fold in theme.folds]
    assert folds
    body = [p.text for p in open_docx(render_docx(minutes)).paragraphs]
    for fold in folds:
        said = (fold.kept, *fold.folded)
        for quote in said:
            others = "、".join(f"#{q.id}" for q in sorted(said, key=lambda q: q.id) if q != quote)
            note = f"（与{others}意见相近，共{len(fold.member_ids)}人）"
            assert any(quote.text in line and line.endswith(note) for line in body), quote.text


def test_a_poll_table_keeps_its_caption_and_repeats_its_header(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary
) -> None:
    several = PollSummary(
        id=4,
        question="夜市优先整治哪些问题？",
        options=(PollOption("油烟", 20), PollOption("垃圾", 15), PollOption("停车", 9)),
        voters=24,
        multiple=True,
    )
    document = open_docx(render_docx(summarize(info, statements, polls=[poll, several])))
    captions = [p for p in document.paragraphs if p.text.startswith("表决#")]
    assert [p.paragraph_format.keep_with_next for p in captions] == [True, True]
    assert "各选项占比之和可超过100%" in captions[1].text
    assert "各选项占比之和" not in captions[0].text
    for table in document.tables:
        header, *rows = table.rows
        assert header._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in rows)
        assert all(run.bold for run in header.cells[0].paragraphs[0].runs)


def test_the_document_is_chinese_for_word(info: ConsultationInfo) -> None:
    document = open_docx(render_docx(summarize(info, [])))
    defaults = document.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:hint")) == "eastAsia"  # “ ” and — in the Chinese face


def test_the_parts_of_the_overview_add_up_to_the_statements(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    said = statement_factory(
        [
            ("m01", "建议夜市烧烤摊统一安装油烟净化设备", "opinion"),  # written as a suggestion
            ("m02", "夜市散场以后垃圾满地，塑料袋和竹签没人清扫", "opinion"),
            ("m03", "建议在夜市周边划定临时停车位，安排交警疏导", "suggestion"),
            ("m04", "收到", "remark"),
        ]
    )
    minutes = summarize(info, said)
    body = [p.text for p in open_docx(render_docx(minutes)).paragraphs]
    [makeup] = [t for t in body if t.startswith("发言中")]
    counts = [int(n) for n in re.findall(r"(\d+)条", makeup)]
    assert counts == [2, 1, 1]
    assert sum(counts) == len(said)


def test_the_plan_and_research_notes_are_in_the_overview(
    planned_info: ConsultationInfo, statements: list[Statement]
) -> None:
    body = [p.text for p in open_docx(render_docx(summarize(planned_info, statements))).paragraphs]
    overview = body[body.index(SECTIONS[0]) : body.index(SECTIONS[1])]
    assert "协商方案：时间：6月1日19:00；地点：街道议事厅；部门：区商务局、区城管局" in overview
    assert "调研材料2份：" in overview
    assert "调研#1（委员03）：走访夜市摊主32户，其中21户愿意延长到23点。" in overview
    assert "调研#2：城管部门提供：去年夜市油烟投诉47件，集中在烧烤区。" in overview


def test_an_open_poll_is_in_progress_with_its_interim_count(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary, open_poll: PollSummary
) -> None:
    document = open_docx(render_docx(summarize(info, statements, polls=[poll, open_poll])))
    body = [p.text for p in document.paragraphs]
    [caption] = [t for t in body if t.startswith("表决#5")]
    assert "进行中" in caption
    assert "截至本纪要生成时11人投票" in caption
    assert "该表决尚未结束，以上为生成纪要时的中间计数，不是表决结果。" in body
    closed, interim = ([[c.text for c in row.cells] for row in t.rows] for t in document.tables)
    assert closed[0] == ["选项", "票数", "占投票人数"]
    assert interim == [["选项", "目前票数"], ["同意", "8"], ["不同意", "3"]]


def test_a_long_statement_is_an_excerpt_with_its_id(
    info: ConsultationInfo, long_statement: list[Statement]
) -> None:
    body = "\n".join(
        p.text for p in open_docx(render_docx(summarize(info, long_statement))).paragraphs
    )
    assert "……（全文见 #12）" in body
    assert long_statement[0].text not in body
    assert long_statement[0].text[:40] in body

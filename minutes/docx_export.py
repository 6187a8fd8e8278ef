"""The minutes for the record: a DOCX in the layout of official 纪要 (GB/T 9704 conventions).

A4, margins 37/35/28/26 mm, title in 方正小标宋 (二号, 22 pt), body in 仿宋_GB2312 (三号, 16 pt)
at an exact 28 pt line pitch, level-one headings 一、二、… in 黑体, level-two （一）（二）… in 楷体.
East-Asian font names go into w:eastAsia, which Word uses for Chinese characters; python-docx's
`font.name` sets only the Latin slots. Member text is added as plain runs, so it cannot become
structure; characters that XML forbids are dropped (they have no visible form).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from minutes.format import document_line, quoted_text, ref, share, signoff_line, when
from minutes.model import PollSummary
from minutes.result import Fold, Minutes, Quote

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SECTIONS = ("一、概况", "二、主要意见", "三、表决情况", "四、共识与分歧", "五、建议事项")
# Only when something came of the consultation: most minutes are filed before anything has.
FOLLOW_UP_SECTION = "六、后续办理"
_CHINESE_NUMBERS = "一二三四五六七八九十"


@dataclass(frozen=True)
class DocxFonts:
    """Typefaces of the document; Word substitutes a close one where a font is missing."""

    title: str = "方正小标宋简体"
    body: str = "仿宋_GB2312"
    heading: str = "黑体"
    subheading: str = "楷体_GB2312"
    page_number: str = "宋体"
    latin: str = "Times New Roman"


# Column widths of a poll table: the option's text, its votes, its share; an open poll's
# table has no share (its count is interim, not a result).
_POLL_COLUMNS = (Mm(92), Mm(26), Mm(38))
_OPEN_POLL_COLUMNS = (Mm(118), Mm(38))


def clean(text: str) -> str:
    """Text safe for WordprocessingML (control characters removed)."""
    return _XML_FORBIDDEN.sub("", text)


def _set_fonts(style: ParagraphStyle, east_asian: str, latin: str, size: float) -> None:
    font = style.font
    font.name = latin
    font.size = Pt(size)
    font.color.rgb = RGBColor(0, 0, 0)
    _east_asian(style.element.get_or_add_rPr().get_or_add_rFonts(), east_asian)


def _east_asian(rfonts: object, face: str) -> None:
    """Chinese characters in `face`; quotation marks and dashes too (the eastAsia hint: they
    are shared with Latin text, and Word would otherwise set “ ” and — in the Latin font)."""
    for theme_attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme_attr), None)  # type: ignore[attr-defined]
    rfonts.set(qn("w:eastAsia"), face)  # type: ignore[attr-defined]
    rfonts.set(qn("w:hint"), "eastAsia")  # type: ignore[attr-defined]


def _run_font(run: Run, east_asian: str, latin: str, size: float | None = None) -> None:
    run.font.name = latin
    if size is not None:
        run.font.size = Pt(size)
    _east_asian(run._element.get_or_add_rPr().get_or_add_rFonts(), east_asian)


def _chinese_defaults(document: DocxDocument, fonts: DocxFonts) -> None:
    """Chinese as the East-Asian language everywhere (the default template says Japanese and
    English), and the body typeface for any text no style reaches."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    defaults = document.styles.element.find(f"{w}docDefaults/{w}rPrDefault/{w}rPr")
    if defaults is not None:
        rfonts = defaults.find(f"{w}rFonts")
        if rfonts is not None:
            _east_asian(rfonts, fonts.body)
            rfonts.set(qn("w:ascii"), fonts.latin)
            rfonts.set(qn("w:hAnsi"), fonts.latin)
        lang = defaults.find(f"{w}lang")
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")
    theme_lang = document.settings.element.find(f"{w}themeFontLang")
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _page_numbers(document: DocxDocument, section: Section, fonts: DocxFonts) -> None:
    """“— 7 —” in 4号 (14 pt) 宋体, one character in from the right on odd pages and from the
    left on even ones (GB/T 9704 7.5)."""
    document.settings.odd_and_even_pages_header_footer = True
    section.footer_distance = Mm(28) - Pt(14)  # the number's line sits about 7 mm below the text
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = alignment
        if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = Pt(14)
        else:
            paragraph.paragraph_format.left_indent = Pt(14)
        _run_font(paragraph.add_run("— "), fonts.page_number, fonts.page_number, 14)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        number = paragraph.add_run("1")
        _run_font(number, fonts.page_number, fonts.page_number, 14)
        field.append(number._element)
        paragraph._p.append(field)
        _run_font(paragraph.add_run(" —"), fonts.page_number, fonts.page_number, 14)


def _paragraph_style(style: object) -> ParagraphStyle:
    if not isinstance(style, ParagraphStyle):  # pragma: no cover - the default template's
        raise TypeError(f"expected a paragraph style, got {style!r}")
    return style


def _styled_document(fonts: DocxFonts) -> DocxDocument:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # No character grid: GB/T 9704 asks 28 characters a line, and Word gets there with a
    # negative w:charSpace, but LibreOffice then spreads each line out to about 16 (tried).
    _chinese_defaults(document, fonts)
    _page_numbers(document, section, fonts)

    styles = document.styles
    normal = _paragraph_style(styles["Normal"])
    _set_fonts(normal, fonts.body, fonts.latin, 16)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    for name, face in (("Heading 1", fonts.heading), ("Heading 2", fonts.subheading)):
        style = _paragraph_style(styles[name])
        _set_fonts(style, face, fonts.latin, 16)
        style.font.bold = False
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(0)
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
        fmt.first_line_indent = Pt(32)
        fmt.keep_with_next = True
    title = _paragraph_style(styles["Title"])
    _set_fonts(title, fonts.title, fonts.latin, 22)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(28)  # an empty line under the title
    title.font.bold = False
    # The built-in Title style draws a rule under the title; official documents have none.
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    return document


def _para(document: DocxDocument, text: str = "", *, indent: bool = True) -> Paragraph:
    # Direct indentation rather than a named style: python-docx resolves a style name by
    # scanning every style, which made 10,000 paragraphs take seconds.
    paragraph = document.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)
    if text:
        paragraph.add_run(clean(text))
    return paragraph


def _quote_text(quote: Quote) -> str:
    return f"“{quoted_text(quote.text, quote.id)}”（{quote.author}，{ref(quote.id)}）"


def _fold_note(quote: Quote, fold: Fold) -> str:
    """On every statement of a fold: the others and how many members say it."""
    others = [q.id for q in (fold.kept, *fold.folded) if q.id != quote.id]
    return f"（与{'、'.join(ref(i) for i in sorted(others))}意见相近，共{len(fold.member_ids)}人）"


def _header_line(document: DocxDocument, label: str, value: str, fonts: DocxFonts) -> None:
    """“出席：…” with the label in 黑体 and the names that wrap aligned under the first one."""
    paragraph = _para(document, indent=False)
    hang = Pt(16 * len(label))
    paragraph.paragraph_format.left_indent = hang
    paragraph.paragraph_format.first_line_indent = -hang
    _run_font(paragraph.add_run(label), fonts.heading, fonts.latin)
    paragraph.add_run(clean(value))


def _poll_table(document: DocxDocument, poll: PollSummary) -> None:
    """Option, votes and share of the voters (an open poll: option and votes so far); the
    header row repeats on a new page and no row is split across pages."""
    widths = _POLL_COLUMNS if poll.closed else _OPEN_POLL_COLUMNS
    table = document.add_table(rows=1, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice reads; Word reads the cells'
    rows: list[tuple[str, ...]]
    if poll.closed:
        rows = [("选项", "票数", "占投票人数")]
        rows += [(clean(o.text), str(o.votes), share(o, poll)) for o in poll.options]
    else:
        rows = [("选项", "目前票数")]
        rows += [(clean(o.text), str(o.votes)) for o in poll.options]
    for index, values in enumerate(rows):
        row = table.rows[0] if index == 0 else table.add_row()
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if index == 0:
            properties.append(OxmlElement("w:tblHeader"))
        for column, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = widths[column]
            paragraph = cell.paragraphs[0]
            if index == 0 or column > 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(value)
            run.bold = index == 0


def render_docx(
    minutes: Minutes,
    *,
    fonts: DocxFonts | None = None,
    max_opinions_per_theme: int = 500,
    max_suggestions: int = 500,
) -> bytes:
    """The minutes as a .docx file (bytes) in the official 纪要 layout.

    Each theme lists its opinions verbatim, most central first, up to `max_opinions_per_theme`,
    and the suggestions most seconded first, up to `max_suggestions` (a Word file of 100,000
    paragraphs helps no reader); the rest are counted and left to the JSON export. A suggestion
    listed under 五、建议事项 is not listed again under its theme, only counted there.
    """
    fonts = fonts or DocxFonts()
    document = _styled_document(fonts)
    info = minutes.consultation
    document.add_paragraph("“请你来协商”会议纪要", style="Title")

    header = [
        ("议题：", info.topic),
        ("时间：", when(info)),
        *([("地点：", info.place)] if info.place else []),
        ("群组：", info.group_name),
        ("主持人：", "、".join(info.moderators) or "未记录"),
        ("出席：", "、".join(info.attendees) or "未记录"),
        ("列席：", "、".join(info.observers) or "无"),
    ]
    for label, value in header:
        _header_line(document, label, value, fonts)

    document.add_heading(SECTIONS[0], level=1)
    _para(document, minutes.overview)
    p = minutes.participation
    # Three parts that add up to the whole: a suggestion is a /建议 or any line written as one
    # (a /意见 starting with 建议 counts here, not twice), and chatter is never a suggestion.
    rest = p.statements - p.suggestions - p.chatter
    makeup = (
        f"发言中建议{p.suggestions}条、其他意见和发言{rest}条、寒暄等闲聊{p.chatter}条；"
        f"表态{p.stances}次（{p.stance_members}人），附议{p.seconds}次。"
    )
    if minutes.polished:  # the model's overview need not carry the totals
        makeup = f"共收到发言{p.statements}条，{p.speakers}人发言；{makeup}"
    _para(document, makeup)
    if info.plan and info.plan.strip():
        _para(document, f"协商方案：{info.plan.strip()}")
    notes = info.notes()
    if notes:
        _para(document, f"调研材料{len(notes)}份：")
        for note in notes:
            by = f"（{note.author}）" if note.author else ""
            _para(document, f"调研{ref(note.id)}{by}：{note.text}")
    if minutes.words_only_note is not None:
        # Last in 一、概况, just before the themes it qualifies.
        _para(document, f"说明：{minutes.words_only_note}")

    listed = {s.quote.id for s in minutes.suggestions[:max_suggestions]}
    fold_of = {
        q.id: fold
        for theme in minutes.themes
        for fold in theme.folds
        for q in (fold.kept, *fold.folded)
    }
    document.add_heading(SECTIONS[1], level=1)
    if not minutes.themes:
        _para(document, "本次协商未收到实质性意见。")
    for number, theme in enumerate(minutes.themes, start=1):
        document.add_heading(clean(f"（{_chinese(number)}）{theme.title}"), level=2)
        figures = f"共{len(theme.opinions)}条意见，{len(theme.member_ids)}人发言"
        if theme.seconds:
            figures += f"，附议{theme.seconds}次"
        if theme.stances.total:
            figures += f"，赞同{theme.stances.agree}次、反对{theme.stances.disagree}次"
        representative = theme.representative
        text = figures + "。代表性意见：" + _quote_text(representative)
        if representative.id in fold_of:
            text += _fold_note(representative, fold_of[representative.id])
        _para(document, text)
        others = [q for q in theme.opinions if q.id != representative.id]
        suggested = [q for q in others if q.id in listed]
        others = [q for q in others if q.id not in listed]
        for quote in others[:max_opinions_per_theme]:
            text = f"{quote.author}（{ref(quote.id)}）：{quoted_text(quote.text, quote.id)}"
            if quote.id in fold_of:
                text += _fold_note(quote, fold_of[quote.id])
            _para(document, text)
        if len(others) > max_opinions_per_theme:
            _para(document, f"另有{len(others) - max_opinions_per_theme}条意见，见JSON导出。")
        if suggested:
            _para(document, f"另有本主题建议{len(suggested)}条，列于“五、建议事项”。")

    document.add_heading(SECTIONS[2], level=1)
    if not minutes.polls:
        _para(document, "本次协商未进行表决。")
    for poll in minutes.polls:
        secrecy = "匿名" if poll.anonymous else "记名"
        if poll.closed:
            kind = "多选，各选项占比之和可超过100%" if poll.multiple else "单选"
            text = f"表决{ref(poll.id)}：{poll.question}（{poll.voters}人投票，{secrecy}，{kind}）"
        else:
            kind = "多选" if poll.multiple else "单选"
            text = (
                f"表决{ref(poll.id)}：{poll.question}（进行中，截至本纪要生成时"
                f"{poll.voters}人投票，{secrecy}，{kind}）"
            )
        caption = _para(document, text)
        caption.paragraph_format.keep_with_next = True
        _poll_table(document, poll)
        if not poll.closed:
            _para(document, "该表决尚未结束，以上为生成纪要时的中间计数，不是表决结果。")
        _para(document, indent=False)  # the next paragraph does not touch the table's border

    document.add_heading(SECTIONS[3], level=1)
    if not (minutes.consensus or minutes.divisive or minutes.opinion_groups):
        _para(document, "表态数量不足，未作共识与分歧分析。")
    parts = iter(range(1, 4))
    if minutes.consensus:
        document.add_heading(f"（{_chinese(next(parts))}）共识", level=2)
        for standing in minutes.consensus:
            s = standing.stances
            verb = "普遍赞同" if standing.direction == "agree" else "普遍反对"
            _para(
                document,
                f"{verb}：{_quote_text(standing.quote)}，赞同{s.agree}人、反对{s.disagree}人、弃权{s.passed}人。",
            )
    if minutes.divisive:
        document.add_heading(f"（{_chinese(next(parts))}）分歧", level=2)
        for standing in minutes.divisive:
            s = standing.stances
            _para(
                document,
                f"意见不一：{_quote_text(standing.quote)}，赞同{s.agree}人、反对{s.disagree}人、弃权{s.passed}人。",
            )
    if minutes.opinion_groups:
        document.add_heading(f"（{_chinese(next(parts))}）意见分组", level=2)
        for group in minutes.opinion_groups:
            text = f"第{group.index}组（{len(group.member_ids)}人）"
            if not group.distinctive:
                _para(document, text + "。")
                continue
            _para(document, text + "较其他组更赞同：")
            for quote in group.distinctive:
                _para(document, _quote_text(quote))

    document.add_heading(SECTIONS[4], level=1)
    if not minutes.suggestions:
        _para(document, "本次协商未收到建议。")
    for number, suggestion in enumerate(minutes.suggestions[:max_suggestions], start=1):
        quote = suggestion.quote
        seconds = f"；附议{len(suggestion.seconds)}人" if suggestion.seconds else ""
        said = quoted_text(quote.text, quote.id)
        text = f"{number}．{said}（{quote.author}，{ref(quote.id)}{seconds}）"
        if quote.id in fold_of:
            text += _fold_note(quote, fold_of[quote.id])
        _para(document, text)

    if len(minutes.suggestions) > max_suggestions:
        _para(document, f"另有{len(minutes.suggestions) - max_suggestions}条建议，见JSON导出。")

    follow_up = minutes.follow_up
    if follow_up:
        document.add_heading(FOLLOW_UP_SECTION, level=1)
        parts = iter(range(1, 3))
        if follow_up.signoffs:
            document.add_heading(f"（{_chinese(next(parts))}）领导签批", level=2)
            for signoff in follow_up.signoffs:
                _para(document, signoff_line(signoff) + "。")
        if follow_up.documents:
            document.add_heading(f"（{_chinese(next(parts))}）出台文件", level=2)
            for issued in follow_up.documents:
                _para(document, document_line(issued) + "。")

    _para(document, "")
    _para(document, "本纪要由协商助手根据群内发言自动整理，引文均注明发言编号，请秘书审核后存档。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _chinese(number: int) -> str:
    if number <= 10:
        return _CHINESE_NUMBERS[number - 1]
    tens, ones = divmod(number, 10)
    head = "" if tens == 1 else _CHINESE_NUMBERS[tens - 1]
    return head + "十" + (_CHINESE_NUMBERS[ones - 1] if ones else "")

"""The official-document (公文) look in python-docx: 仿宋 body, 黑体 headings, GB/T 9704
margins. Chinese fonts must be named under w:eastAsia, or Word falls back to a Latin font."""

from __future__ import annotations

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
# 三号 and 二号 in Chinese type sizes.
BODY_SIZE = 16
TITLE_SIZE = 22


def set_run_font(run: Run, name: str, size: float, *, bold: bool = False) -> None:
    """Give a run its font for Latin and for Chinese text alike."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run_properties = run._r.get_or_add_rPr()
    run_properties.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def prepare_document(document: Document) -> None:
    """Margins, and the 仿宋 三号 body with fixed 28-point lines of the 公文 layout."""
    for section in document.sections:
        section.page_height = Mm(297)
        section.page_width = Mm(210)
        section.top_margin = Mm(37)
        section.bottom_margin = Mm(35)
        section.left_margin = Mm(28)
        section.right_margin = Mm(26)
    normal = document.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    paragraph_format = normal.paragraph_format
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(28)
    paragraph_format.space_after = Pt(0)


def add_line(
    document: Document,
    text: str,
    *,
    font: str = BODY_FONT,
    size: float = BODY_SIZE,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
) -> Paragraph:
    """One paragraph in one font; `indent` starts it two characters in, as body text does."""
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    set_run_font(paragraph.add_run(text), font, size, bold=bold)
    return paragraph

"""Pure functions that turn what was said in a consultation into its minutes (会议纪要).

No I/O, no database: the bot passes statements, stances and polls in, and gets `Minutes` back,
which it renders as Markdown for the group, DOCX for the record and JSON for programs.
"""

from minutes.docx_export import DocxFonts, render_docx
from minutes.embed import E5Embedder, Embedder, vector_from_bytes, vector_to_bytes
from minutes.json_export import render_json
from minutes.markdown_export import escape_markdown, render_markdown
from minutes.model import (
    AGREE,
    DISAGREE,
    PASS,
    ConsultationInfo,
    PollOption,
    PollSummary,
    Stance,
    Statement,
)
from minutes.polish import PolishResult, apply_polish, plain_text_problem, polish_prompt
from minutes.result import (
    Fold,
    Minutes,
    OpinionGroup,
    Participation,
    Quote,
    StanceCount,
    StatementStanding,
    Suggestion,
    Theme,
)
from minutes.summarizer import SummaryOptions, build_overview, summarize

__all__ = [
    "AGREE",
    "DISAGREE",
    "PASS",
    "ConsultationInfo",
    "DocxFonts",
    "E5Embedder",
    "Embedder",
    "Fold",
    "Minutes",
    "OpinionGroup",
    "Participation",
    "PolishResult",
    "PollOption",
    "PollSummary",
    "Quote",
    "Stance",
    "StanceCount",
    "Statement",
    "StatementStanding",
    "Suggestion",
    "SummaryOptions",
    "Theme",
    "apply_polish",
    "build_overview",
    "escape_markdown",
    "plain_text_problem",
    "polish_prompt",
    "render_docx",
    "render_json",
    "render_markdown",
    "summarize",
    "vector_from_bytes",
    "vector_to_bytes",
]

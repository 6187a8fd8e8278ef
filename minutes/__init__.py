"""Pure functions that turn what was said in a consultation into its minutes (会议纪要).

No I/O, no database: the bot passes statements, stances and polls in, and gets `Minutes` back,
which it renders as Markdown for the group, DOCX for the record and JSON for programs.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minutes.docx_export import DocxFonts, render_docx
    from minutes.embed import E5Embedder, Embedder, vector_from_bytes, vector_to_bytes
    from minutes.json_export import render_json
    from minutes.markdown_export import escape_markdown, render_markdown
    from minutes.model import (
        AGREE,
        DISAGREE,
        PASS,
        ConsultationInfo,
        FollowUp,
        IssuedDocument,
        PollOption,
        PollSummary,
        ResearchNote,
        Signoff,
        SpeakerRole,
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

# The names below are imported when first used: the bot loads this package at start-up, and
# the summarizer's numeric libraries (scikit-learn, SciPy) cost a second and 150 MB that only
# /纪要 needs.
_WHERE = {
    "AGREE": "minutes.model",
    "ConsultationInfo": "minutes.model",
    "DISAGREE": "minutes.model",
    "DocxFonts": "minutes.docx_export",
    "E5Embedder": "minutes.embed",
    "Embedder": "minutes.embed",
    "Fold": "minutes.result",
    "FollowUp": "minutes.model",
    "IssuedDocument": "minutes.model",
    "Minutes": "minutes.result",
    "OpinionGroup": "minutes.result",
    "PASS": "minutes.model",
    "Participation": "minutes.result",
    "PolishResult": "minutes.polish",
    "PollOption": "minutes.model",
    "PollSummary": "minutes.model",
    "Quote": "minutes.result",
    "Signoff": "minutes.model",
    "ResearchNote": "minutes.model",
    "SpeakerRole": "minutes.model",
    "Stance": "minutes.model",
    "StanceCount": "minutes.result",
    "Statement": "minutes.model",
    "StatementStanding": "minutes.result",
    "Suggestion": "minutes.result",
    "SummaryOptions": "minutes.summarizer",
    "Theme": "minutes.result",
    "apply_polish": "minutes.polish",
    "build_overview": "minutes.summarizer",
    "escape_markdown": "minutes.markdown_export",
    "plain_text_problem": "minutes.polish",
    "polish_prompt": "minutes.polish",
    "render_docx": "minutes.docx_export",
    "render_json": "minutes.json_export",
    "render_markdown": "minutes.markdown_export",
    "summarize": "minutes.summarizer",
    "vector_from_bytes": "minutes.embed",
    "vector_to_bytes": "minutes.embed",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'minutes' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "AGREE",
    "DISAGREE",
    "PASS",
    "ConsultationInfo",
    "DocxFonts",
    "E5Embedder",
    "Embedder",
    "Fold",
    "FollowUp",
    "IssuedDocument",
    "Minutes",
    "OpinionGroup",
    "Participation",
    "PolishResult",
    "PollOption",
    "PollSummary",
    "Quote",
    "ResearchNote",
    "Signoff",
    "SpeakerRole",
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

"""Pure functions that turn what was said in a consultation into its minutes (会议纪要).

No I/O, no database: the bot passes statements, stances and polls in, and gets `Minutes` back,
which it renders as Markdown for the group, DOCX for the record and JSON for programs.
"""

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
from minutes.summarize import SummaryOptions, summarize

__all__ = [
    "AGREE",
    "DISAGREE",
    "PASS",
    "ConsultationInfo",
    "Fold",
    "Minutes",
    "OpinionGroup",
    "Participation",
    "PollOption",
    "PollSummary",
    "Quote",
    "StanceCount",
    "Stance",
    "Statement",
    "StatementStanding",
    "Suggestion",
    "SummaryOptions",
    "Theme",
    "summarize",
]

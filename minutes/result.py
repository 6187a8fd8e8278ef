"""What the summarizer returns: the minutes as typed, frozen data that every renderer reads.

Every theme, quote and figure here points back to statement ids of the input; nothing is
written that a member did not say, except titles and the overview, which are built from
keywords and counts (or, when polished, checked against them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from minutes.model import ConsultationInfo, FollowUp, PollSummary

Method = Literal["embeddings+tfidf", "tfidf"]
# Why words alone found the themes, when the caller does not say.
WORDS_ONLY_REASON = "部分发言还没有语义向量"


@dataclass(frozen=True, slots=True)
class Quote:
    """A statement quoted verbatim, with its author and id."""

    id: int
    text: str
    author: str
    author_id: str


@dataclass(frozen=True, slots=True)
class StanceCount:
    """Agree, disagree and pass marks on one statement or a group of statements."""

    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def total(self) -> int:
        """All marks counted."""
        return self.agree + self.disagree + self.passed


@dataclass(frozen=True, slots=True)
class Fold:
    """Statements that say the same thing, shown once; `kept` speaks for `folded`."""

    kept: Quote
    folded: tuple[Quote, ...]
    member_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Theme:
    """A group of statements on one matter, with its most central statement quoted.

    `opinions` run from the most central (the representative) to the least.
    """

    title: str
    keywords: tuple[str, ...]
    opinions: tuple[Quote, ...]
    representative: Quote
    member_ids: tuple[str, ...]
    seconds: int
    stances: StanceCount
    folds: tuple[Fold, ...]


@dataclass(frozen=True, slots=True)
class StatementStanding:
    """How members marked one statement, overall and per opinion group."""

    quote: Quote
    stances: StanceCount
    # Smoothed share of agreement in each opinion group, in group order (empty without groups).
    group_agree: tuple[float, ...]
    direction: Literal["agree", "disagree", "split"]


@dataclass(frozen=True, slots=True)
class OpinionGroup:
    """Members who marked statements alike (Pol.is style), and what sets them apart."""

    index: int
    member_ids: tuple[str, ...]
    # Statements this group agrees with far more than the others do.
    distinctive: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A `/建议` (or a statement written as one), with the members who seconded it."""

    quote: Quote
    seconds: tuple[str, ...]
    theme: int | None


@dataclass(frozen=True, slots=True)
class Participation:
    """Counts of who took part and how."""

    statements: int
    opinions: int
    suggestions: int
    remarks: int
    speakers: int
    chatter: int
    stances: int
    stance_members: int
    seconds: int
    poll_voters: int
    attendees: int


@dataclass(frozen=True, slots=True)
class Minutes:
    """The minutes of one consultation, ready to render."""

    consultation: ConsultationInfo
    participation: Participation
    overview: str
    themes: tuple[Theme, ...]
    chatter_ids: tuple[int, ...]
    duplicates: tuple[tuple[int, int], ...]
    polls: tuple[PollSummary, ...]
    consensus: tuple[StatementStanding, ...]
    divisive: tuple[StatementStanding, ...]
    opinion_groups: tuple[OpinionGroup, ...]
    suggestions: tuple[Suggestion, ...]
    method: Method
    polished: bool = False
    # Added by the bot once the summary is built: it comes from records, not from what
    # was said, so the summarizer never sees it.
    follow_up: FollowUp = field(default_factory=FollowUp)
    # Added by the caller, who knows where the vectors came from (the summarizer sees only
    # numbers): the name of the model whose sentence vectors found the themes, and, when
    # words alone did, why. A secretary must know: themes on words alone are coarser.
    vector_model: str | None = None
    words_only_reason: str | None = None

    @property
    def vectors_used(self) -> str | None:
        """The model whose sentence vectors were used, or None for words alone."""
        if self.method == "tfidf":
            return None
        return self.vector_model or "unnamed"

    @property
    def fallback(self) -> str | None:
        """Why words alone found the themes, or None: vectors were used, or nothing was said
        (there were no themes to find)."""
        if self.method != "tfidf" or self.participation.statements == 0:
            return None
        return self.words_only_reason or WORDS_ONLY_REASON

    @property
    def words_only_note(self) -> str | None:
        """The sentence the Markdown and the DOCX carry when words alone found the themes."""
        if self.fallback is None:
            return None
        return (
            f"本版纪要未使用语义向量（{self.fallback}），主题和闲聊仅按字词归纳，"
            "划分可能较粗，请核对后使用。"
        )

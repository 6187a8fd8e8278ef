"""Small shared wording helpers: times in Asia/Shanghai, ids as `#12`, poll shares, and
the lines of the follow-up (签批, documents issued)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from minutes.model import ConsultationInfo, IssuedDocument, PollOption, PollSummary, Signoff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ref(statement_id: int) -> str:
    """An id as members type it."""
    return f"#{statement_id}"


def local_time(value: datetime) -> datetime:
    """A stored (UTC) time in Asia/Shanghai; naive times are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(SHANGHAI)


def when(info: ConsultationInfo) -> str:
    """The consultation's date and hours, e.g. 2024年5月10日 09:30—11:30."""
    if info.started_at is None:
        return "未记录"
    start = local_time(info.started_at)
    text = f"{start.year}年{start.month}月{start.day}日 {start:%H:%M}"
    if info.ended_at is not None:
        end = local_time(info.ended_at)
        same_day = end.date() == start.date()
        text += (
            f"—{end:%H:%M}" if same_day else f"—{end.year}年{end.month}月{end.day}日 {end:%H:%M}"
        )
    return text


# A statement longer than this is quoted as an excerpt in the chat and the record (the JSON
# keeps it whole): a 1,000-character statement would swallow a page of 纪要.
EXCERPT_OVER = 200
EXCERPT_CHARS = 100
_CLAUSE_END = "。！？；!?;"


def excerpt(text: str) -> str | None:
    """The opening of a long text up to a sentence end (at most EXCERPT_CHARS characters), or
    None when the text is short enough to quote whole."""
    flat = text.strip()
    if len(flat) <= EXCERPT_OVER:
        return None
    head = flat[:EXCERPT_CHARS]
    # Stop at the last full sentence when one ends in the second half: an excerpt that ends
    # mid-sentence misleads more than one that ends early.
    cut = max(head.rfind(ch) for ch in _CLAUSE_END)
    if cut >= EXCERPT_CHARS // 2:
        head = head[: cut + 1]
    return head.rstrip()


def full_text_note(statement_id: int) -> str:
    """What ends an excerpt: where the whole statement is."""
    return f"……（全文见 {ref(statement_id)}）"


def quoted_text(text: str, statement_id: int) -> str:
    """A statement as the minutes quote it: whole, or an excerpt ending "……（全文见 #12）"."""
    head = excerpt(text)
    return text if head is None else head + full_text_note(statement_id)


def share(option: PollOption, poll: PollSummary) -> str:
    """An option's share of the voters, as a whole percent (multiple choice: of voters)."""
    if poll.voters <= 0:
        return "0%"
    return f"{round(100 * option.votes / poll.voters)}%"


def day(value: date) -> str:
    """`2026年12月1日`."""
    return f"{value.year}年{value.month}月{value.day}日"


def _on(referral: int | None) -> str:
    return f"就报送{ref(referral)}" if referral is not None else ""


def signoff_line(signoff: Signoff) -> str:
    """`王明（市委书记）2026年12月1日就报送#1批示：“请…”`."""
    return (
        f"{signoff.leader}（{signoff.title}）{day(signoff.signed_on)}{_on(signoff.referral)}"
        f"批示：“{signoff.instruction}”"
    )


def document_line(document: IssuedDocument) -> str:
    """`政府办2026年6月1日印发《…》（桐政办发〔2026〕12号），源自报送#1`."""
    number = f"（{document.number}）" if document.number else ""
    source = f"，源自报送{ref(document.referral)}" if document.referral is not None else ""
    return f"{document.issuer}{day(document.issued_on)}印发《{document.title}》{number}{source}"

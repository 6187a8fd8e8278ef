"""Small shared wording helpers: times in Asia/Shanghai, ids as `#12`, poll shares."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from minutes.model import ConsultationInfo, PollOption, PollSummary

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


def share(option: PollOption, poll: PollSummary) -> str:
    """An option's share of the voters, as a whole percent (multiple choice: of voters)."""
    if poll.voters <= 0:
        return "0%"
    return f"{round(100 * option.votes / poll.voters)}%"

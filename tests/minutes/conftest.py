"""A small consultation on extending the night market, written for these tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from minutes import ConsultationInfo, PollOption, PollSummary, ResearchNote, Stance, Statement
from tests.minutes.support import NIGHT_MARKET, START, StatementFactory, make_statements


@pytest.fixture
def info() -> ConsultationInfo:
    """The header of the test consultation."""
    return ConsultationInfo(
        id=7,
        topic="夜市延长营业时间",
        group_name="西湖区夜市协商群",
        started_at=START,
        ended_at=START + timedelta(hours=2),
        moderators=("王主任",),
        attendees=("委员01", "委员02", "委员03"),
        observers=("区商务局",),
        place="街道议事厅",
    )


@pytest.fixture
def planned_info(info: ConsultationInfo) -> ConsultationInfo:
    """The same consultation with its plan and two research notes, one attached as text."""
    return replace(
        info,
        plan="时间：6月1日19:00；地点：街道议事厅；部门：区商务局、区城管局",
        research_notes=(
            ResearchNote(1, "走访夜市摊主32户，其中21户愿意延长到23点。", "委员03", START),
            "城管部门提供：去年夜市油烟投诉47件，集中在烧烤区。",
        ),
    )


@pytest.fixture
def open_poll() -> PollSummary:
    """A poll still open when the minutes are built: its count is interim."""
    return PollSummary(
        id=5,
        question="夜市是否试行到24点？",
        options=(PollOption("同意", 8), PollOption("不同意", 3)),
        voters=11,
        closed=False,
    )


@pytest.fixture
def long_statement() -> list[Statement]:
    """One opinion of 1,000 characters, the only one said."""
    text = ("夜市延长营业以后，周边住户晚上休息受到影响，油烟、噪音和垃圾都需要有人管。" * 40)[
        :1000
    ]
    return make_statements([("m01", text, "opinion")], first_id=12)


@pytest.fixture
def statements() -> list[Statement]:
    """The night-market conversation."""
    return make_statements(NIGHT_MARKET)


@pytest.fixture
def poll() -> PollSummary:
    """A closed poll as the bot counted it."""
    return PollSummary(
        id=3,
        question="是否支持夜市延长到23点？",
        options=(PollOption("支持", 17), PollOption("反对", 5), PollOption("弃权", 2)),
        voters=24,
        anonymous=True,
    )


@pytest.fixture
def stances() -> list[Stance]:
    """Everyone agrees with #2; two camps split over #13."""
    marks = [Stance(2, f"v{i:02d}", 1) for i in range(10)]
    marks += [Stance(13, f"v{i:02d}", 1 if i < 5 else -1) for i in range(10)]
    return marks


@pytest.fixture
def statement_factory() -> StatementFactory:
    """Build statements from (author id, text, kind) rows."""
    return make_statements

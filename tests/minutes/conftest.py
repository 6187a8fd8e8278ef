"""A small consultation on extending the night market, written for these tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from minutes import ConsultationInfo, PollOption, PollSummary, Stance, Statement
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

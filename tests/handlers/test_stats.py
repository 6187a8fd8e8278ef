"""/统计: the year's figures, and what a wrong year gets."""

from __future__ import annotations

import pytest

from bot.core.dispatcher import Status
from storage.enums import Role
from tests.support import Group


@pytest.mark.parametrize("year", ["1999", "2101年"])
async def test_a_year_out_of_range_is_told_the_range(group: Group, year: str) -> None:
    outcome = await group.say("秘书", f"/统计 {year}", role=Role.SECRETARY)

    assert outcome.status is Status.USAGE
    assert outcome.replies[0].startswith("秘书：年份应在 2000–2100 之间，如 /统计 2026。")


async def test_the_edges_of_the_range_are_years(group: Group) -> None:
    first = await group.answer("秘书", "/统计 2000", role=Role.SECRETARY)
    last = await group.answer("秘书", "/统计 2100年", role=Role.SECRETARY)

    assert first.startswith("**2000 年协商工作统计（群1）**")
    assert last.startswith("**2100 年协商工作统计（群1）**")


async def test_words_that_are_no_year_still_get_the_example(group: Group) -> None:
    answer = await group.answer("秘书", "/统计 明年", role=Role.SECRETARY)

    assert answer.startswith("秘书：请写年份，如 /统计 2026，或 /统计 全部。")

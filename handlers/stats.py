"""/统计: the year's figures for this group, without anyone keeping a spreadsheet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.core.context import Context
from bot.core.errors import UsageError
from bot.core.router import Router
from reports.statistics import render_statistics_markdown
from storage.enums import Role
from storage.groups import get_group
from storage.stats import compute_statistics

router = Router("stats")

ALL_YEARS = frozenset({"全部", "历年", "all"})
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, slots=True)
class YearChoice:
    """`2026`, `2026年`, `全部`, or nothing for this year."""

    year: int | None
    every_year: bool

    @classmethod
    def parse(cls, raw: str) -> Self:
        """A year between FIRST_YEAR and LAST_YEAR, or all years."""
        text = raw.strip().lower()
        if not text:
            return cls(None, False)
        if text in ALL_YEARS:
            return cls(None, True)
        match = re.fullmatch(r"(\d{4})\s*年?", text)
        if not match:
            raise UsageError("请写年份，如 /统计 2026，或 /统计 全部。")
        if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            # A year it could read but will not take: say which ones it takes.
            raise UsageError(f"年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间，如 /统计 2026。")
        return cls(int(match.group(1)), False)


@router.command(
    "统计",
    "stats",
    usage="/统计 [年份|全部]",
    summary="查看本群的协商工作统计",
    roles=[Role.SECRETARY, Role.MODERATOR],
)
async def show_statistics(ctx: Context, args: YearChoice) -> None:
    """The figures of this group's consultations opened in a year (this year by default)."""
    zone = ctx.settings.zone
    year = None if args.every_year else args.year or ctx.now.astimezone(zone).year
    group = get_group(ctx.session, group_id=ctx.group_id)
    stats = compute_statistics(
        ctx.session,
        now=ctx.now,
        zone=zone,
        year=year,
        group_id=ctx.group_id,
        scope=group.title or "本群",
    )
    ctx.reply(render_statistics_markdown(stats), mention=False)

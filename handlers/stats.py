"""/统计: the year's figures for this group, or the year's table of its unit with the units
under it, without anyone keeping a spreadsheet; with 表格, the same figures as a workbook
posted to the group as a file."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Self

from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.files import FileRef, FileSource, console_url
from bot.core.router import Router
from bot.core.text import fold, one_line
from reports.statistics import (
    render_statistics_markdown,
    render_statistics_xlsx,
    render_year_table_markdown,
)
from reports.tables import year_table_xlsx
from storage.enums import Role
from storage.files import store_chat_file
from storage.groups import get_group
from storage.stats import compute_statistics
from storage.units import held_by_unit, unit_of_group, year_table

router = Router("stats")

ALL_YEARS = frozenset({"全部", "历年", "all"})
EVERY_UNIT = frozenset({"全部", "全部单位", "all"})
UNITS_WORDS = frozenset({"单位", "units", "unit"})
# Ask for the figures as a workbook too (a file in the group, beside the text).
WORKBOOK_WORDS = frozenset({"表格", "excel", "xlsx"})
FIRST_YEAR, LAST_YEAR = 2000, 2100
YEAR_WORD = re.compile(r"\d{4}\s*年?")


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


@dataclass(frozen=True, slots=True)
class StatsRequest:
    """`[年份|全部]` for the group; `单位 [单位名|全部] [年份]` for the year's table of a
    unit (this group's by default) and the units under it."""

    when: YearChoice
    units: bool
    unit: str | None
    all_units: bool
    # 表格: post the figures as a workbook file too.
    workbook: bool = False

    @classmethod
    def parse(cls, raw: str) -> Self:
        """The year anywhere; the unit's name right after 单位; 表格 anywhere."""
        words = raw.split()
        kept = [word for word in words if fold(word) not in WORKBOOK_WORDS]
        request = cls._parse(kept)
        return replace(request, workbook=len(kept) < len(words))

    @classmethod
    def _parse(cls, words: list[str]) -> Self:
        marks = [index for index, word in enumerate(words) if fold(word) in UNITS_WORDS]
        if not marks:
            return cls(YearChoice.parse(" ".join(words)), False, None, False)
        if len(marks) > 1:
            raise UsageError("「单位」只能写一次，如 /统计 单位 西湖区 2026。")
        at = marks[0]
        rest = words[:at] + words[at + 1 :]
        unit = None
        following = words[at + 1] if at + 1 < len(words) else ""
        if following and not YEAR_WORD.fullmatch(following):
            unit = following
            rest = words[:at] + words[at + 2 :]
        if len(rest) > 1 and not YEAR_WORD.fullmatch("".join(rest)):
            raise UsageError("请按 /统计 单位 [单位名] [年份] 书写，如 /统计 单位 西湖区 2026。")
        every = unit is not None and fold(unit) in EVERY_UNIT
        return cls(YearChoice.parse("".join(rest)), True, None if every else unit, every)


@router.command(
    "统计",
    "stats",
    usage="/统计 [年份|全部] [表格]　/统计 单位 [单位名|全部] [年份] [表格]",
    summary="查看本群的协商工作统计，或所属单位及下级单位的年度统计（加「表格」另发 Excel 文件）",
    roles=[Role.SECRETARY, Role.MODERATOR],
)
async def show_statistics(ctx: Context, args: StatsRequest) -> None:
    """This group's figures of a year, or a unit's year table against its quota."""
    zone = ctx.settings.zone
    year = None if args.when.every_year else args.when.year or ctx.now.astimezone(zone).year
    units = ctx.settings.units
    tree = units.tree_spec()
    principal = units.principal_rule()
    own_unit = unit_of_group(ctx.session, tree=tree, group_id=ctx.group_id)
    if args.units:
        if not tree.units:
            raise UserError("还没有配置单位：请在 config.yaml 的 units.tree 中列出单位。")
        name = args.unit
        if name is None and not args.all_units and own_unit is not None:
            name = own_unit.name
        if name is not None and tree.find(name) is None:
            raise UserError(f"没有单位「{one_line(name, 20)}」，请核对名称（见 config.yaml）。")
        table = year_table(
            ctx.session,
            tree=tree,
            now=ctx.now,
            zone=zone,
            year=year,
            principal=principal,
            unit=name,
        )
        ctx.reply(render_year_table_markdown(table), mention=False)
        if args.workbook:
            name = f"单位协商统计-{table.scope}-{year or '历年'}"
            _post_workbook(ctx, name, year_table_xlsx(table), year)
        return
    group = get_group(ctx.session, group_id=ctx.group_id)
    stats = compute_statistics(
        ctx.session,
        now=ctx.now,
        zone=zone,
        year=year,
        group_id=ctx.group_id,
        scope=group.title or "本群",
        principal=principal,
    )
    text = render_statistics_markdown(stats)
    if own_unit is not None and year is not None:
        held = held_by_unit(ctx.session, tree=tree, unit=own_unit.name, year=year, zone=zone)
        short = own_unit.quota - held
        progress = "达标" if short <= 0 else f"差 {short} 场"
        text += (
            f"\n本群属于{own_unit.name}：{year} 年{own_unit.name}本级协商 {held} 场，"
            f"目标 {own_unit.quota} 场，{progress}（/统计 单位 查看下级单位）"
        )
    ctx.reply(text, mention=False)
    if args.workbook:
        name = f"协商工作统计-{group.title or '本群'}-{year or '历年'}"
        _post_workbook(ctx, name, render_statistics_xlsx(stats), year)


def _post_workbook(ctx: Context, name: str, workbook: bytes, year: int | None) -> None:
    """Keep the workbook as made now and post it to the group as a file; where the platform
    takes no files, point to the console's statistics page, which exports the year."""
    filename = f"{_safe_name(name)}.xlsx"
    file_id = store_chat_file(ctx.session, name=filename, content=workbook, now=ctx.now)
    page = console_url(ctx.settings, "/console/stats" + (f"?year={year}" if year else ""))
    ctx.post_file(
        FileRef(FileSource.CHAT, file_id, filename),
        fallback=f"统计表格（Excel）请在协商助手后台的统计页面导出：{page}",
    )


def _safe_name(name: str) -> str:
    """A file name every platform and phone takes: no path or reserved characters."""
    return "".join("-" if c in '\\/:*?"<>|' else c for c in " ".join(name.split()))[:100]

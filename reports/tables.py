"""The console's downloads as tables: opinions, ballots and referrals as XLSX (openpyxl) and
CSV, and the statistics of a year as one workbook with a sheet per view.

Pure: rows of the storage data classes in, bytes out. Every cell goes through
`reports.cells`: text as neutralised strings, figures as numbers with their formats, times
as local dates.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.cells import Cell, append_cells, csv_cell
from reports.statistics import (
    YEAR_COLUMNS,
    statistics_rows,
    title,
    year_title,
    year_total_row,
)
from storage.console import BallotRow, OpinionRow, PeriodFigures, ReferralRow
from storage.stats import Statistics
from storage.units import YearTable


@dataclass(frozen=True, slots=True)
class Table:
    """A sheet's name, its header and its rows (each cell carries its own format: see
    `reports.cells`)."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The local time a spreadsheet shows (it has no zones), to the minute."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


def opinions_table(rows: Sequence[OpinionRow], zone: ZoneInfo) -> Table:
    """编号, 类别, 委员, 内容, 附议, 时间, 状态."""
    return Table(
        "意见建议",
        ("编号", "类别", "委员", "内容", "附议", "时间", "状态"),
        [
            (
                f"#{row.number}",
                row.kind.label,
                row.member_name,
                row.text,
                row.seconds,
                _time(row.created_at, zone),
                "已撤回" if row.retracted else "",
            )
            for row in rows
        ],
    )


def ballots_table(rows: Sequence[BallotRow], zone: ZoneInfo) -> Table:
    """投票, 问题, 投票人, 选择, 票数, 时间: a named poll's ballots one by one, an anonymous
    poll's counts per option (投票人 "匿名（只计票数）", no time)."""
    return Table(
        "投票明细",
        ("投票", "问题", "投票人", "选择", "票数", "时间"),
        [
            (
                f"#{row.poll_number}",
                row.question,
                row.voter or "匿名（只计票数）",
                "、".join(row.choices),
                row.votes,
                _time(row.cast_at, zone),
            )
            for row in rows
        ],
    )


def referrals_table(rows: Sequence[ReferralRow], zone: ZoneInfo) -> Table:
    """报送, 主办, 协办, 意见建议, 报送时间, 期限, 状态, 答复时间, 答复."""
    return Table(
        "报送办理",
        (
            "报送",
            "主办部门",
            "协办部门",
            "意见建议",
            "报送时间",
            "答复期限",
            "状态",
            "答复时间",
            "答复",
        ),
        [
            (
                f"#{row.number}",
                row.lead_department,
                "、".join(row.co_departments),
                " ".join(f"#{n}" for n in row.opinion_numbers),
                _time(row.referred_at, zone),
                row.due_on,
                row.status,
                _time(row.replied_at, zone),
                row.reply_text,
            )
            for row in rows
        ],
    )


def _fill(sheet: Worksheet, table: Table) -> None:
    sheet.title = table.name[:31]
    append_cells(sheet, table.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        append_cells(sheet, row)
    for index, name in enumerate(table.header, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 40 if name in ("内容", "问题", "答复") else 14


def tables_xlsx(tables: Sequence[Table], *, heading: str = "") -> bytes:
    """A workbook with one sheet per table (the heading kept in its properties)."""
    workbook = Workbook()
    workbook.properties.title = heading or None
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for table in tables:
        _fill(workbook.create_sheet(), table)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark, so Excel opens the Chinese text as it is."""
    text = StringIO()
    writer = csv.writer(text)
    writer.writerow([csv_cell(name) for name in table.header])
    writer.writerows([csv_cell(value) for value in row] for row in table.rows)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def period_table(name: str, figures: Sequence[PeriodFigures]) -> Table:
    """One line per month or group: 协商, 意见, 建议, 报送."""
    return Table(
        name,
        ("", "协商场次", "意见", "建议", "报送件数"),
        [(f.label, f.consultations, f.opinions, f.suggestions, f.referrals) for f in figures],
    )


def year_tables(table: YearTable) -> list[Table]:
    """The year's table as one sheet per level (省级, 市级, 县级, 乡镇级), each unit a row
    and a 合计 row of the level's units."""
    sheets = []
    for level in table.levels:
        rows = table.at_level(level)
        sheets.append(
            Table(
                level.short,
                tuple(column.header for column in YEAR_COLUMNS),
                [tuple(column.value(row) for column in YEAR_COLUMNS) for row in rows]
                + [year_total_row(rows)],
            )
        )
    return sheets


def year_table_xlsx(table: YearTable) -> bytes:
    """The year's table as a workbook with a sheet per level."""
    return tables_xlsx(year_tables(table), heading=year_title(table))


def statistics_workbook(
    overall: Statistics,
    monthly: Sequence[PeriodFigures],
    per_group: Sequence[Statistics],
    units: YearTable | None = None,
) -> bytes:
    """The year's figures (总计), the months (按月), every group's figures (按群) and, with
    units configured, the year's table with a sheet per level."""
    rows = statistics_rows(overall)
    summary = Table("总计", ("指标", "数值"), [(label, value) for label, value, _ in rows])
    groups = Table(
        "按群",
        ("指标", *(s.scope for s in per_group)),
        [
            (label, *(rows[index][1] for rows in (statistics_rows(s) for s in per_group)))
            for index, (label, _, _) in enumerate(statistics_rows(overall))
        ],
    )
    levels = year_tables(units) if units is not None else []
    return tables_xlsx(
        [summary, period_table("按月", monthly), groups, *levels], heading=title(overall)
    )

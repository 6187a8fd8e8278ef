"""The statistics as the group reads them (Markdown), as programs read them (JSON) and as
offices file them (XLSX, through openpyxl); and the year's table of the units, by level."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.cells import Cell, Score, Share, append_cells, score_text, share_text
from storage.enums import ReplyClass, Stage
from storage.stats import Figures, Statistics, total
from storage.units import ALL_UNITS, UnitFigures, YearTable

# (label, the figure as a spreadsheet keeps it, the figure as the group reads it)
Row = tuple[str, int | Score | Share | None, str]


def _score(value: float | None) -> Score | None:
    return None if value is None else Score(value)


def _share(value: float | None) -> Share | None:
    return None if value is None else Share(value)


def title(stats: Statistics) -> str:
    """`2026 年协商工作统计（群1）`."""
    year = f"{stats.year} 年" if stats.year is not None else "历年"
    return f"{year}协商工作统计（{stats.scope}）"


def statistics_rows(stats: Statistics) -> list[Row]:
    """(label, value, how it is shown) for every figure, in reading order."""
    rows: list[Row] = [
        ("协商场次", stats.consultations, f"{stats.consultations} 场"),
        ("其中进行中", stats.open_consultations, f"{stats.open_consultations} 场"),
    ]
    rows += [
        (f"阶段：{stage.label}", stats.by_stage[stage], f"{stats.by_stage[stage]} 场")
        for stage in Stage
    ]
    rows += [
        ("参与委员", stats.participants, f"{stats.participants} 人"),
        ("参与人次", stats.participations, f"{stats.participations} 人次"),
        ("意见", stats.opinions, f"{stats.opinions} 条"),
        ("建议", stats.suggestions, f"{stats.suggestions} 条"),
        ("报送件数", stats.referrals, f"{stats.referrals} 件"),
        ("报送意见建议", stats.referred_items, f"{stats.referred_items} 条"),
        ("已答复", stats.replies, f"{stats.replies} 件"),
    ]
    rows += [
        (f"答复：{cls.label}", stats.replies_by_class[cls], f"{stats.replies_by_class[cls]} 件")
        for cls in ReplyClass
    ]
    rows += [
        ("待答复", stats.awaiting_reply, f"{stats.awaiting_reply} 件"),
        ("采纳率", _share(stats.adoption_rate), share_text(stats.adoption_rate)),
        ("逾期", stats.overdue, f"{stats.overdue} 件"),
        ("其中逾期答复", stats.replied_late, f"{stats.replied_late} 件"),
        ("其中逾期未答复", stats.overdue_unanswered, f"{stats.overdue_unanswered} 件"),
        ("评价", stats.ratings, f"{stats.ratings} 份"),
        ("办理平均分", _score(stats.average_handling), score_text(stats.average_handling)),
        ("结果平均分", _score(stats.average_result), score_text(stats.average_result)),
        ("领导和部门负责人出席", stats.leaders_present, f"{stats.leaders_present} 人次"),
        ("党委政府一把手参加", stats.principal_sessions, f"{stats.principal_sessions} 场"),
        ("领导签批", stats.signoffs, f"{stats.signoffs} 次"),
        ("发文（出台文件）", stats.documents, f"{stats.documents} 件"),
        ("其中党委（办）发文", stats.party_documents, f"{stats.party_documents} 件"),
    ]
    return rows


def render_statistics_markdown(stats: Statistics) -> str:
    """A compact text for the group: one line per theme."""
    s = stats
    stages = "、".join(f"{stage.label} {s.by_stage[stage]}" for stage in Stage if s.by_stage[stage])
    classes = "，".join(f"{cls.label} {s.replies_by_class[cls]}" for cls in ReplyClass)
    return "\n".join(
        [
            f"**{title(s)}**",
            f"协商 {s.consultations} 场（进行中 {s.open_consultations}）"
            + (f"：{stages}" if stages else ""),
            f"参与委员 {s.participants} 人，{s.participations} 人次；"
            f"领导和部门负责人出席 {s.leaders_present} 人次",
            f"意见 {s.opinions} 条，建议 {s.suggestions} 条",
            f"报送 {s.referrals} 件（意见建议 {s.referred_items} 条），已答复 {s.replies} 件，"
            f"待答复 {s.awaiting_reply} 件",
            f"答复分类：{classes}",
            f"采纳率 {share_text(s.adoption_rate)}（A、B、C 类答复占已答复件数）",
            f"逾期 {s.overdue} 件（逾期答复 {s.replied_late}，逾期未答复 {s.overdue_unanswered}）",
            f"评价 {s.ratings} 份，办理平均 {score_text(s.average_handling)} 分，"
            f"结果平均 {score_text(s.average_result)} 分",
            f"签批 {s.signoffs} 次；发文 {s.documents} 件（党委（办）{s.party_documents} 件）；"
            f"党委政府一把手参加 {s.principal_sessions} 场",
        ]
    )


def statistics_json(stats: Statistics) -> dict[str, Any]:
    """The figures under stable English keys."""
    return {
        "year": stats.year,
        "scope": stats.scope,
        "consultations": stats.consultations,
        "open_consultations": stats.open_consultations,
        "by_stage": {stage.value: stats.by_stage[stage] for stage in Stage},
        "participants": stats.participants,
        "participations": stats.participations,
        "opinions": stats.opinions,
        "suggestions": stats.suggestions,
        "referrals": stats.referrals,
        "referred_items": stats.referred_items,
        "replies": stats.replies,
        "replies_by_class": {cls.value: stats.replies_by_class[cls] for cls in ReplyClass},
        "awaiting_reply": stats.awaiting_reply,
        "adoption_rate": stats.adoption_rate,
        "overdue": stats.overdue,
        "replied_late": stats.replied_late,
        "overdue_unanswered": stats.overdue_unanswered,
        "ratings": stats.ratings,
        "average_handling": stats.average_handling,
        "average_result": stats.average_result,
        "leaders_present": stats.leaders_present,
        "principal_sessions": stats.principal_sessions,
        "signoffs": stats.signoffs,
        "documents": stats.documents,
        "party_documents": stats.party_documents,
    }


def render_statistics_xlsx(stats: Statistics) -> bytes:
    """A workbook with one sheet: the title, then 指标 / 数值 rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "协商统计"
    # The title names the scope, a group's title among them: written as text like any cell.
    append_cells(sheet, [title(stats)])
    sheet["A1"].font = Font(bold=True, size=14)
    append_cells(sheet, ["指标", "数值"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for label, value, _ in statistics_rows(stats):
        append_cells(sheet, [label, value])
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 12
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the year's table of the units ------------------------------------------------------


def quota_text(row: UnitFigures) -> str:
    """`达标` or `差 2 场`."""
    return "达标" if row.met else f"差 {row.shortfall} 场"


@dataclass(frozen=True, slots=True)
class YearColumn:
    """One column of the year's table: its header, its value in a row (shares and scores as
    `Share` and `Score`, which carry their formats), whether it holds text, and its value in
    the 合计 of several units when that is not the value of their sum."""

    header: str
    value: Callable[[UnitFigures], Cell]
    text: bool = False
    summed: Callable[[Sequence[UnitFigures]], Cell] | None = None


def _total(header: str, read: Callable[[Figures], Cell]) -> YearColumn:
    """A column of the unit's figures with everything under it."""
    return YearColumn(header, lambda row: read(row.total))


def _replies(reply_class: ReplyClass) -> Callable[[Figures], Cell]:
    return lambda figures: figures.replies_of(reply_class)


# Everything but the quota counts the unit with all the units under it (含下级).
YEAR_COLUMNS: tuple[YearColumn, ...] = (
    YearColumn("单位", lambda row: row.unit.name, True, lambda rows: "合计"),
    YearColumn("级别", lambda row: row.unit.level.label, True, lambda rows: ""),
    YearColumn("上级单位", lambda row: row.unit.parent, True, lambda rows: ""),
    YearColumn("协商场数（本级）", lambda row: row.held),
    YearColumn(
        "年度目标（6+X）",
        lambda row: row.unit.quota,
        summed=lambda rows: sum(r.unit.quota for r in rows),
    ),
    YearColumn(
        "差额", lambda row: row.shortfall, summed=lambda rows: sum(r.shortfall for r in rows)
    ),
    YearColumn(
        "完成情况",
        quota_text,
        True,
        lambda rows: f"达标 {sum(r.met for r in rows)} 个，共 {len(rows)} 个",
    ),
    _total("协商场数（含下级）", lambda f: f.consultations),
    _total("参与委员", lambda f: f.participants),
    _total("参与人次", lambda f: f.participations),
    _total("意见", lambda f: f.opinions),
    _total("建议", lambda f: f.suggestions),
    _total("报送件数", lambda f: f.referrals),
    _total("已答复", lambda f: f.replies),
    *(_total(f"答复：{cls.label}", _replies(cls)) for cls in ReplyClass),
    _total("采纳率", lambda f: _share(f.adoption_rate)),
    _total("逾期", lambda f: f.overdue),
    _total("评价份数", lambda f: f.ratings),
    _total("办理平均分", lambda f: _score(f.average_handling)),
    _total("结果平均分", lambda f: _score(f.average_result)),
    _total("签批次数", lambda f: f.signoffs),
    _total("党委（办）发文数", lambda f: f.party_documents),
    _total("发文总数", lambda f: f.documents),
    _total("一把手参加场数", lambda f: f.principal_sessions),
)


def year_total_row(rows: Sequence[UnitFigures]) -> tuple[Cell, ...]:
    """The 合计 line of some units (those of one level): their figures added up."""
    summed = UnitFigures(
        unit=rows[0].unit,
        depth=0,
        groups=sum(row.groups for row in rows),
        own=total(row.own for row in rows),
        total=total(row.total for row in rows),
    )
    return tuple(
        column.value(summed) if column.summed is None else column.summed(rows)
        for column in YEAR_COLUMNS
    )


def year_title(table: YearTable) -> str:
    """`2026 年协商工作年表（浙江省）`."""
    year = f"{table.year} 年" if table.year is not None else "历年"
    level = f"，{table.level.label}级" if table.level is not None else ""
    return f"{year}协商工作年表（{table.scope}{level}）"


def _unit_line(row: UnitFigures) -> str:
    """`西湖区（县（市、区））：本级 5 场，目标 6 场，差 1 场；含下级共 9 场…`."""
    f = row.total
    line = (
        f"{row.unit.name}（{row.unit.level.label}）：本级 {row.held} 场，"
        f"目标 {row.unit.quota} 场，{quota_text(row)}"
    )
    if f.consultations != row.held:
        line += f"；含下级共 {f.consultations} 场"
    return line + (
        f"；意见建议 {f.opinions + f.suggestions} 条，报送 {f.referrals} 件，签批 {f.signoffs} 次，"
        f"发文 {f.documents} 件，一把手参加 {f.principal_sessions} 场"
    )


def _figures_lines(label: str, f: Figures) -> list[str]:
    classes = "，".join(f"{cls.label} {f.replies_of(cls)}" for cls in ReplyClass)
    return [
        f"{label}：参与委员 {f.participants} 人（{f.participations} 人次），"
        f"意见 {f.opinions} 条，建议 {f.suggestions} 条；报送 {f.referrals} 件，"
        f"已答复 {f.replies} 件（{classes}），采纳率 {share_text(f.adoption_rate)}；"
        f"逾期 {f.overdue} 件；评价 {f.ratings} 份，办理平均 {score_text(f.average_handling)} 分，"
        f"结果平均 {score_text(f.average_result)} 分",
        f"签批 {f.signoffs} 次；发文 {f.documents} 件（党委（办）{f.party_documents} 件）；"
        f"党委政府一把手参加 {f.principal_sessions} 场",
    ]


def render_year_table_markdown(table: YearTable, *, depth: int | None = 1) -> str:
    """The unit (or every top unit) and the units down to `depth` levels under it (all
    with None), each against its quota; the scope's figures; how many units of each level
    met the quota. The group reads depth 1: a unit and its children."""
    lines = [f"**{year_title(table)}**"]
    if not table.rows:
        return "\n".join([*lines, "没有符合条件的单位。"])
    top = min(row.depth for row in table.rows)
    for row in table.rows:
        below = row.depth - top
        if depth is None or below <= depth:
            lines.append(("  " * (below - 1) + "- " if below else "") + _unit_line(row))
    label = "合计（含下级）" if table.scope != ALL_UNITS else "全部单位合计"
    lines += _figures_lines(label, table.total)
    levels = [
        f"{level.label} {sum(r.met for r in table.at_level(level))}/{len(table.at_level(level))}"
        for level in table.levels
    ]
    lines.append("达标单位数：" + "，".join(levels))
    if table.unattached.consultations:
        lines.append(
            f"另有 {table.unattached.consultations} 场协商所在的群未归属单位"
            "（秘书可在群里发送 /本群 单位 <单位名>）。"
        )
    return "\n".join(lines)


def figures_json(f: Figures) -> dict[str, Any]:
    """A unit's figures under stable English keys."""
    return {
        "consultations": f.consultations,
        "participants": f.participants,
        "participations": f.participations,
        "opinions": f.opinions,
        "suggestions": f.suggestions,
        "referrals": f.referrals,
        "referred_items": f.referred_items,
        "replies": f.replies,
        "replies_by_class": {cls.value: f.replies_of(cls) for cls in ReplyClass},
        "adoption_rate": f.adoption_rate,
        "overdue": f.overdue,
        "ratings": f.ratings,
        "average_handling": f.average_handling,
        "average_result": f.average_result,
        "leaders_present": f.leaders_present,
        "signoffs": f.signoffs,
        "party_documents": f.party_documents,
        "documents": f.documents,
        "principal_sessions": f.principal_sessions,
    }


def year_table_json(table: YearTable) -> dict[str, Any]:
    """The year's table for programs: every unit with its quota, its own figures and its
    figures with everything under it."""
    return {
        "year": table.year,
        "scope": table.scope,
        "level": table.level.value if table.level is not None else None,
        "units": [
            {
                "name": row.unit.name,
                "level": row.unit.level.value,
                "parent": row.unit.parent or None,
                "depth": row.depth,
                "groups": row.groups,
                "quota": row.unit.quota,
                "held": row.held,
                "shortfall": row.shortfall,
                "met": row.met,
                "own": figures_json(row.own),
                "total": figures_json(row.total),
            }
            for row in table.rows
        ],
        "total": figures_json(table.total),
        "unattached": figures_json(table.unattached),
    }

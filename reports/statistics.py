"""The statistics as the group reads them (Markdown), as programs read them (JSON) and as
offices file them (XLSX, through openpyxl)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.cells import Score, Share, append_cells, score_text, share_text
from storage.enums import ReplyClass, Stage
from storage.stats import Statistics

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

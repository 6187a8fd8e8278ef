"""The statistics as text, JSON and a workbook that opens."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

from openpyxl import load_workbook

from reports.statistics import (
    render_statistics_markdown,
    render_statistics_xlsx,
    statistics_json,
)
from reports.tables import statistics_workbook
from storage.enums import ReplyClass, Stage
from storage.stats import Statistics

STATS = Statistics(
    year=2026,
    scope="西湖区政协委员群",
    consultations=3,
    open_consultations=1,
    by_stage={**dict.fromkeys(Stage, 0), Stage.EVALUATE: 2, Stage.CONSULT: 1},
    participants=40,
    participations=55,
    opinions=120,
    suggestions=30,
    referrals=4,
    referred_items=9,
    replies_by_class={
        ReplyClass.SOLVED: 1,
        ReplyClass.IN_PROGRESS: 1,
        ReplyClass.PLANNED: 0,
        ReplyClass.DECLINED: 1,
    },
    awaiting_reply=1,
    adoption_rate=2 / 3,
    replied_late=1,
    overdue_unanswered=1,
    ratings=12,
    average_handling=4.25,
    average_result=3.5,
    leaders_present=5,
    signoffs=2,
    party_documents=1,
    documents=3,
    principal_sessions=2,
)


def test_the_group_reads_one_line_per_theme() -> None:
    text = render_statistics_markdown(STATS)

    assert text.splitlines()[0] == "**2026 年协商工作统计（西湖区政协委员群）**"
    assert "协商 3 场（进行中 1）：开展协商 1、结果评价 2" in text
    assert "采纳率 67%（A、B、C 类答复占已答复件数）" in text
    assert "逾期 2 件（逾期答复 1，逾期未答复 1）" in text
    # 4.25 rounds half up, as people round (Python's format() would say 4.2).
    assert "评价 12 份，办理平均 4.3 分，结果平均 3.5 分" in text


def test_programs_read_stable_keys() -> None:
    data = statistics_json(STATS)

    assert data["by_stage"]["evaluate"] == 2
    assert data["replies"] == 3
    assert data["replies_by_class"] == {"solved": 1, "in_progress": 1, "planned": 0, "declined": 1}
    assert data["overdue"] == 2


def test_the_workbook_opens_with_every_figure() -> None:
    workbook = load_workbook(BytesIO(render_statistics_xlsx(STATS)))
    sheet = workbook["协商统计"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    formats = {row[0].value: row[1].number_format for row in sheet.iter_rows(min_row=3)}

    assert sheet["A1"].value == "2026 年协商工作统计（西湖区政协委员群）"
    assert rows["协商场次"] == 3
    assert rows["阶段：结果评价"] == 2
    assert rows["答复：未采纳"] == 1
    # The figures the group reads, as numbers Excel shows the same way.
    assert (rows["采纳率"], formats["采纳率"]) == (0.67, "0%")
    assert (rows["办理平均分"], formats["办理平均分"]) == (4.3, "0.0")
    assert (rows["结果平均分"], formats["结果平均分"]) == (3.5, "0.0")
    assert rows["领导和部门负责人出席"] == 5


def test_the_loop_to_policy_is_counted_in_every_form() -> None:
    text = render_statistics_markdown(STATS)
    data = statistics_json(STATS)
    rows = {
        row[0]: row[1]
        for row in load_workbook(BytesIO(render_statistics_xlsx(STATS)))["协商统计"].iter_rows(
            min_row=3, values_only=True
        )
    }

    assert "签批 2 次；发文 3 件（党委（办）1 件）；党委政府一把手参加 2 场" in text
    assert (data["signoffs"], data["documents"], data["party_documents"]) == (2, 3, 1)
    assert data["principal_sessions"] == 2
    assert (rows["领导签批"], rows["发文（出台文件）"], rows["其中党委（办）发文"]) == (2, 3, 1)
    assert rows["党委政府一把手参加"] == 2


def test_a_group_named_like_a_formula_stays_text_in_the_workbook() -> None:
    group = replace(STATS, scope='=HYPERLINK("http://evil.example","点我")')

    workbook = load_workbook(BytesIO(statistics_workbook(STATS, [], [group, STATS])))
    header = workbook["按群"][1]

    assert header[1].value == '\'=HYPERLINK("http://evil.example","点我")'
    assert header[1].data_type == "s"
    assert header[2].value == "西湖区政协委员群"
    assert workbook["按群"]["B2"].value == 3  # a number stays a number

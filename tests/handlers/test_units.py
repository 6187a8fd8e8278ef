"""Units and levels, the 6+X quota, leaders' 签批 and documents issued, and the year's table:
a province, two cities, three counties and four townships hold consultations in eight groups
over two years, and every figure at every level is the sum of what is under it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session, col, func, select

from bot.core.clock import ManualClock
from bot.runtime.app import App
from bot.runtime.cli import main
from storage.enums import DocumentIssuer, OpinionKind, Role
from storage.models import ChatGroup, Consultation, Opinion
from storage.stats import Figures, PrincipalRule, total
from storage.step_tables import LeaderSignoff, PolicyDocument, Referral
from storage.units import UnitFigures, YearTable, year_table
from tests.conftest import make_settings, running_app
from tests.support import MODERATOR, Group, RecordingSender

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRETARY, LIAISON = "秘书", "联络员"
# The groups config names: `test:<conversation>` (tests.support's platform).
TREE = [
    {"name": "浙江省", "level": "省", "quota": 1, "groups": ["test:省政协"]},
    {"name": "杭州市", "level": "市", "parent": "浙江省", "groups": ["test:杭州"]},
    {"name": "嘉兴市", "level": "市", "parent": "浙江省"},
    {"name": "西湖区", "level": "区", "parent": "杭州市", "groups": ["test:西湖"]},
    {"name": "桐庐县", "level": "县", "parent": "杭州市"},
    {"name": "桐乡市", "level": "县", "parent": "嘉兴市", "groups": ["test:桐乡"]},
    {"name": "转塘街道", "level": "街道", "parent": "西湖区"},
    {"name": "留下街道", "level": "街道", "parent": "西湖区"},
    {"name": "分水镇", "level": "镇", "parent": "桐庐县", "groups": ["test:分水"]},
    {"name": "乌镇", "level": "镇", "parent": "桐乡市"},
]
UNITS = {"tree": TREE}


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@dataclass
class Year:
    """The bot and its eight groups, by conversation."""

    app: App
    clock: ManualClock
    groups: dict[str, Group]

    async def secretary(self, where: str, text: str) -> str:
        return await self.groups[where].answer(SECRETARY, text, role=Role.SECRETARY)

    def table(self, year: int = 2025, unit: str | None = None) -> YearTable:
        with Session(self.app.engine) as session:
            return year_table(
                session,
                tree=self.app.settings.units.tree_spec(),
                now=self.clock.now(),
                zone=SHANGHAI,
                year=year,
                principal=self.app.settings.units.principal_rule(),
                unit=unit,
            )


async def session_in(group: Group, topic: str, *said: tuple[str, str]) -> None:
    """A short consultation: opened, members speak, closed."""
    await group.say(MODERATOR, f"/协商 开始 {topic}")
    for who, text in said:
        await group.say(who, text)
    await group.say(MODERATOR, "/协商 结束")


async def night_market_in_xihu(year: Year) -> None:
    """西湖's session of 2025, left open in 结果评价: a suggestion referred and answered A and
    rated, the 区委书记 and a 副区长 present."""
    xihu = year.groups["西湖"]
    year.clock.set(at(2025, 6, 10))
    await xihu.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await xihu.say("张三", "/建议 设置降噪屏障")
    await xihu.say("李四", "/意见 要兼顾居民休息")
    await xihu.say("李四", "/附议 #1")
    await year.secretary("西湖", "/出席 王明 区委 书记")
    await year.secretary("西湖", "/出席 刘洋 区政府 副区长")
    await xihu.say(MODERATOR, "/协商 阶段 报送意见")
    await year.secretary("西湖", "/报送 #1 区商务局 期限 30天")
    year.clock.set(at(2025, 6, 15))
    await xihu.say(LIAISON, "/反馈 #1 A 已设置降噪屏障", role=Role.LIAISON)
    await xihu.say(MODERATOR, "/协商 阶段 结果评价")
    await xihu.say("张三", "/评价 #1 办理 5 结果 4")


async def hold_two_years(app: App, clock: ManualClock, sender: RecordingSender) -> Year:
    """2024: two sessions and a 签批. 2025: 转塘 5, 留下 7, 杭州 2 and one each in five
    other groups, with referrals, replies, a rating, leaders present, a 签批 and two
    documents."""
    names = ("省政协", "杭州", "西湖", "桐乡", "分水", "转塘", "留下", "乌镇")
    year = Year(app, clock, {name: Group(app, clock, sender, name) for name in names})
    g = year.groups

    clock.set(at(2024, 3, 1))
    await session_in(g["桐乡"], "古镇保护", ("陈五", "/意见 保护老街风貌"))
    clock.set(at(2024, 3, 6))
    await year.secretary("桐乡", "/签批 陈书记 市委书记 2024-03-05 请抓紧研究")
    clock.set(at(2024, 5, 1))
    await session_in(g["省政协"], "数字政府", ("秦六", "/意见 一网通办"))

    for where, unit in (("转塘", "转塘街道"), ("留下", "留下街道"), ("乌镇", "乌镇")):
        await year.secretary(where, f"/本群 单位 {unit}")
    for day in range(1, 6):
        clock.set(at(2025, 3, day))
        await session_in(g["转塘"], f"转塘第{day}场", ("孙七", f"/意见 转塘意见{day}"))
    for day in range(1, 8):
        clock.set(at(2025, 4, day))
        said = [("周八", "/建议 留下建议")] if day == 1 else []
        await session_in(g["留下"], f"留下第{day}场", *said)
    clock.set(at(2025, 5, 10))
    await session_in(g["乌镇"], "水乡旅游", ("吴九", "/意见 限流"), ("郑十", "/建议 预约入园"))

    await night_market_in_xihu(year)

    clock.set(at(2025, 7, 1))
    await session_in(
        g["杭州"],
        "老旧小区加装电梯",
        ("张三", "/意见 低层住户要补偿"),
        ("钱一", "/建议 设专项补贴"),
    )
    await g["杭州"].say(MODERATOR, "/协商 开始 背街小巷改造")
    await year.secretary("杭州", "/出席 赵刚 市政府 市长")
    await g["杭州"].say(MODERATOR, "/协商 结束")
    # After both sessions closed, the 签批 and the document go to the one that closed last.
    await year.secretary("杭州", "/签批 赵刚 市长 7月3日 请市住建局牵头研究")
    await year.secretary("杭州", "/发文 党委 杭委发〔2025〕3号 《关于背街小巷改造的意见》 7月10日")

    clock.set(at(2025, 8, 1))
    fenshui = g["分水"]
    await fenshui.say(MODERATOR, "/协商 开始 乡村公交")
    await fenshui.say("冯二", "/建议 增开早班车")
    await fenshui.say(MODERATOR, "/协商 阶段 报送意见")
    await year.secretary("分水", "/报送 #1 县交通局 期限 15天")
    await fenshui.say(MODERATOR, "/协商 结束")
    await year.secretary("分水", "/发文 政府办 《分水镇乡村公交优化方案》 8月20日")

    clock.set(at(2025, 9, 1))
    tongxiang = g["桐乡"]
    await tongxiang.say(MODERATOR, "/协商 开始 古镇停车")
    await tongxiang.say("陈五", "/建议 建设外围停车场")
    await tongxiang.say(MODERATOR, "/协商 阶段 报送意见")
    await year.secretary("桐乡", "/报送 #1 市住建局")
    await tongxiang.say(LIAISON, "/反馈 #1 C 列入明年计划", role=Role.LIAISON)
    await tongxiang.say(MODERATOR, "/协商 结束")

    clock.set(at(2025, 10, 1))
    await session_in(g["省政协"], "营商环境", ("秦六", "/意见 减少审批"))
    clock.set(at(2026, 1, 10))
    return year


@pytest.fixture
async def xihu_only(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[Year]:
    """The bot with the tree of units, after 西湖's session alone."""
    async with running_app(make_settings(ready_database_url, units=UNITS), clock, sender) as app:
        year = Year(app, clock, {"西湖": Group(app, clock, sender, "西湖")})
        await night_market_in_xihu(year)
        clock.set(at(2026, 1, 10))
        yield year


@pytest.fixture
async def year(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[Year]:
    """The bot with the tree of units, after two years of consultations."""
    async with running_app(make_settings(ready_database_url, units=UNITS), clock, sender) as app:
        yield await hold_two_years(app, clock, sender)


def sums_of_children(table: YearTable) -> None:
    """Every unit's figures are its own groups' plus the figures of the units right under
    it: counts add up, members are counted once."""
    by_name = {row.unit.name: row for row in table.rows}
    for row in table.rows:
        children = [r for r in table.rows if r.unit.parent == row.unit.name]
        below = total(child.total for child in children)
        for item in fields(Figures):
            mine, own, theirs = (getattr(f, item.name) for f in (row.total, row.own, below))
            if isinstance(mine, frozenset):
                assert mine == own | theirs, (row.unit.name, item.name)
            elif isinstance(mine, dict):
                for key in mine.keys() | own.keys() | theirs.keys():
                    assert mine.get(key, 0) == own.get(key, 0) + theirs.get(key, 0)
            else:
                assert mine == own + theirs, (row.unit.name, item.name)
    roots = [row for row in table.rows if not row.unit.parent]
    assert table.total == total(r.total for r in roots)
    assert set(by_name) == {entry["name"] for entry in TREE}


@dataclass(frozen=True)
class Records:
    """What the database holds for some groups' consultations of a year, counted apart
    from the figures' own code."""

    consultations: int
    opinions: int
    suggestions: int
    referrals: int
    signoffs: int
    documents: int
    party_documents: int


def records_behind(year: Year, conversations: set[str], in_year: int = 2025) -> Records:
    start, end = at(in_year, 1, 1, 0), at(in_year + 1, 1, 1, 0)
    with Session(year.app.engine) as session:
        ids = list(
            session.exec(
                select(Consultation.id)
                .join(ChatGroup, col(ChatGroup.id) == col(Consultation.group_id))
                .where(
                    col(ChatGroup.conversation_id).in_(conversations),
                    col(Consultation.opened_at) >= start,
                    col(Consultation.opened_at) < end,
                )
            )
        )

        def count(table: type, *where: object) -> int:
            statement = (
                select(func.count())
                .select_from(table)
                .where(col(table.consultation_id).in_(ids), *where)  # type: ignore[attr-defined]
            )
            return int(session.exec(statement).one())

        live = col(Opinion.retracted_at).is_(None)
        # One document recorded against two consultations is one document: its 文号 says
        # which, or without one its issuer, title and date.
        issued = {
            (d.doc_number,) if d.doc_number else (d.issuer, d.title, d.issued_on): d.issuer
            for d in session.exec(
                select(PolicyDocument).where(col(PolicyDocument.consultation_id).in_(ids))
            )
        }
        party = (DocumentIssuer.PARTY, DocumentIssuer.PARTY_OFFICE)
        return Records(
            consultations=len(ids),
            opinions=count(Opinion, Opinion.kind == OpinionKind.OPINION, live),
            suggestions=count(Opinion, Opinion.kind == OpinionKind.SUGGESTION, live),
            referrals=count(Referral),
            signoffs=count(LeaderSignoff),
            documents=len(issued),
            party_documents=sum(1 for issuer in issued.values() if issuer in party),
        )


def figures_of(row: UnitFigures) -> Records:
    f = row.total
    return Records(
        f.consultations,
        f.opinions,
        f.suggestions,
        f.referrals,
        f.signoffs,
        f.documents,
        f.party_documents,
    )


def groups_under(unit: str, home: dict[str, str]) -> set[str]:
    """The conversations of a unit and of every unit under it."""
    parents = {entry["name"]: entry.get("parent", "") for entry in TREE}

    def inside(name: str) -> bool:
        while name:
            if name == unit:
                return True
            name = parents[name]
        return False

    return {conversation for conversation, name in home.items() if inside(name)}


HOME = {
    "省政协": "浙江省",
    "杭州": "杭州市",
    "西湖": "西湖区",
    "桐乡": "桐乡市",
    "分水": "分水镇",
    "转塘": "转塘街道",
    "留下": "留下街道",
    "乌镇": "乌镇",
}


async def test_the_year_adds_up_at_every_level_meets_quotas_and_reads_back_the_same(
    year: Year, ready_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One scenario read three ways, since holding the two years is what takes the time.
    every_level_is_the_sum_of_its_children_and_of_the_records(year)
    await quota_progress_of_a_unit_with_five_and_one_with_seven_sessions(year)
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    the_year_table_reads_back_from_xlsx_and_json_with_the_same_numbers(year, tmp_path)


def every_level_is_the_sum_of_its_children_and_of_the_records(year: Year) -> None:
    table = year.table()

    sums_of_children(table)
    for row in table.rows:
        assert figures_of(row) == records_behind(year, groups_under(row.unit.name, HOME))
    rows = {row.unit.name: row for row in table.rows}
    province = rows["浙江省"].total
    assert province.consultations == 19
    assert (province.signoffs, province.documents, province.party_documents) == (1, 2, 1)
    # 王明 (区委书记) in 西湖 and 赵刚 (市长) in 杭州; 刘洋 is a 副区长.
    assert province.principal_sessions == 2
    assert (province.referrals, province.replies, province.overdue) == (3, 2, 1)
    # 张三 spoke in 杭州 and in 西湖: one member of 杭州市, not two.
    assert rows["杭州市"].total.participants == 6
    assert sum(rows[name].total.participants for name in ("杭州市", "西湖区", "桐庐县")) > 6
    assert table.unattached == Figures()
    # 2024 is a year of its own: 桐乡's first session and its 签批.
    earlier = year.table(2024)
    assert earlier.total.consultations == 2
    assert {r.unit.name: r.total.signoffs for r in earlier.rows}["嘉兴市"] == 1


async def quota_progress_of_a_unit_with_five_and_one_with_seven_sessions(year: Year) -> None:
    xihu = await year.secretary("西湖", "/统计 单位 2025")
    ours = await year.secretary("转塘", "/统计 2025")

    assert xihu.splitlines()[0] == "**2025 年协商工作年表（西湖区）**"
    assert xihu.splitlines()[1].startswith(
        "西湖区（县（市、区））：本级 1 场，目标 6 场，差 5 场；含下级共 13 场"
    )
    assert "- 转塘街道（乡镇（街道））：本级 5 场，目标 6 场，差 1 场；" in xihu
    assert "- 留下街道（乡镇（街道））：本级 7 场，目标 6 场，达标；" in xihu
    assert "达标单位数：县（市、区） 0/1，乡镇（街道） 1/2" in xihu
    assert "本群属于转塘街道：2025 年转塘街道本级协商 5 场，目标 6 场，差 1 场" in ours
    rows = {row.unit.name: row for row in year.table().rows}
    assert (rows["转塘街道"].shortfall, rows["转塘街道"].met) == (1, False)
    assert (rows["留下街道"].shortfall, rows["留下街道"].met) == (0, True)
    # The province's own quota (1) wins over its level's (6).
    assert rows["浙江省"].met


def the_year_table_reads_back_from_xlsx_and_json_with_the_same_numbers(
    year: Year, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"units": UNITS}, allow_unicode=True), encoding="utf-8")
    workbook_path = tmp_path / "年表.xlsx"
    common = ["--config", str(config), "--year", "2025", "--unit", "all"]

    assert main(["stats", *common, "--format", "xlsx", "--output", str(workbook_path)]) == 0
    assert main(["stats", *common, "--format", "json", "--output", str(tmp_path / "a.json")]) == 0
    assert main(["stats", "--config", str(config), "--unit", "东海省"]) == 2
    assert main(["stats", "--config", str(config), "--level", "国"]) == 2

    table = year.table()
    workbook = load_workbook(io.BytesIO(workbook_path.read_bytes()))
    assert workbook.sheetnames == ["省级", "市级", "县级", "乡镇级"]
    read: dict[str, dict[str, object]] = {}
    for sheet in workbook.worksheets:
        header = [cell.value for cell in sheet[1]]
        for line in sheet.iter_rows(min_row=2):
            values = dict(zip(header, line, strict=True))
            assert values["采纳率"].number_format == "0%" or values["采纳率"].value is None
            read[str(values["单位"].value) + sheet.title] = {k: c.value for k, c in values.items()}
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    by_name = {unit["name"]: unit for unit in data["units"]}
    for row in table.rows:
        cells = read[row.unit.name + row.unit.level.short]
        f = row.total
        expected = {
            "协商场数（本级）": row.held,
            "年度目标（6+X）": row.unit.quota,
            "差额": row.shortfall,
            "协商场数（含下级）": f.consultations,
            "参与委员": f.participants,
            "意见": f.opinions,
            "建议": f.suggestions,
            "报送件数": f.referrals,
            "逾期": f.overdue,
            "评价份数": f.ratings,
            "签批次数": f.signoffs,
            "党委（办）发文数": f.party_documents,
            "发文总数": f.documents,
            "一把手参加场数": f.principal_sessions,
        }
        assert {k: cells[k] for k in expected} == expected
        assert all(type(cells[k]) is int for k in expected)
        assert cells["采纳率"] == f.adoption_rate
        assert by_name[row.unit.name]["total"]["signoffs"] == f.signoffs
        assert by_name[row.unit.name]["held"] == row.held
    # Each sheet ends with its level's 合计: the sum of its units, members once.
    towns = read["合计乡镇级"]
    assert towns["协商场数（本级）"] == 5 + 7 + 1 + 1
    assert towns["完成情况"] == "达标 1 个，共 4 个"
    assert data["total"]["consultations"] == 19


async def test_a_group_moved_to_another_unit_moves_its_figures(year: Year) -> None:
    before = {row.unit.name: row.total.consultations for row in year.table().rows}

    moved = await year.secretary("乌镇", "/本群 单位 分水镇")
    after = {row.unit.name: row.total.consultations for row in year.table().rows}

    assert moved.startswith(
        "秘书：本群已由乌镇改归分水镇（乡镇（街道），浙江省 › 杭州市 › 桐庐县 › 分水镇）"
    )
    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert changed == {
        "乌镇": -1,
        "桐乡市": -1,
        "嘉兴市": -1,
        "分水镇": 1,
        "桐庐县": 1,
        "杭州市": 1,
    }
    jiaxing = await year.secretary("桐乡", "/统计 单位 嘉兴市 2025")
    assert "- 桐乡市（县（市、区））：本级 1 场，目标 6 场，差 5 场；意见建议 1 条" in jiaxing
    home = {**HOME, "乌镇": "分水镇"}
    table = year.table()
    sums_of_children(table)
    for row in table.rows:
        assert figures_of(row) == records_behind(year, groups_under(row.unit.name, home))
    # A group config names stays where config puts it.
    refused = await year.secretary("西湖", "/本群 单位 杭州市")
    assert refused == "秘书：本群在 config.yaml 中归属西湖区，如需改归杭州市，请修改配置文件。"


async def test_a_document_answering_two_consultations_counts_once_above_them(
    year: Year,
) -> None:
    # 杭州's 背街小巷 document also answers 西湖's night market; the district counts it, the
    # city and the province still count it once. A document of the same title another unit
    # issues on another day without a 文号 is another document.
    before = {row.unit.name: row.total.documents for row in year.table().rows}
    await year.secretary(
        "西湖", "/发文 党委 杭委发〔2025〕3号 《关于背街小巷改造的意见》 2025-07-10"
    )
    await year.secretary("桐乡", "/发文 政府办 《分水镇乡村公交优化方案》 2025-09-20")
    table = year.table()
    after = {row.unit.name: row.total.documents for row in table.rows}

    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert changed == {"西湖区": 1, "桐乡市": 1, "嘉兴市": 1, "浙江省": 1}
    assert table.total.documents == 3
    assert table.total.party_documents == 1
    sums_of_children(table)
    for row in table.rows:
        assert figures_of(row) == records_behind(year, groups_under(row.unit.name, HOME))


async def test_signoffs_and_documents_are_the_secretarys_shown_in_the_minutes_and_counted_once(
    xihu_only: Year,
) -> None:
    year = xihu_only
    xihu = year.groups["西湖"]
    signoffs = xihu.count("leader_signoff")
    refused = await xihu.answer("张三", "/签批 #1 王明 区委书记 请总结推广")
    also_refused = await xihu.answer("张三", "/发文 #1 党委办 《关于规范夜市经营的实施意见》")

    signed = await year.secretary("西湖", "/签批 #1 王明 区委书记 2025-06-20 请区商务局总结推广")
    again = await year.secretary("西湖", "/签批 #1 王明 区委书记 2025-06-20 请区商务局总结推广")
    issued = await year.secretary(
        "西湖", "/发文 #1 党委办 西委办〔2025〕8号 《关于规范夜市经营的实施意见》 2025-06-25"
    )
    reissued = await year.secretary("西湖", "/发文 #1 党委 《关于规范夜市经营的实施意见》")
    await xihu.group_sees()
    await year.secretary("西湖", "/纪要")
    await year.app.minutes.drain()
    # The minutes' Markdown, then its Word file (here, its link): the Markdown is last but one.
    minutes = (await xihu.group_sees())[-2]

    assert refused.startswith("张三：/签批 仅限秘书使用。")
    assert also_refused.startswith("张三：/发文 仅限秘书使用。")
    assert signed == (
        "签批 #1：王明（区委书记）2025年6月20日对报送 #1（区商务局）作出批示：“请区商务局总结推广”"
    )
    assert again == "秘书：这条签批已经记录过（签批 #1），未重复记录。"
    assert issued == (
        "发文 #1：党委办2025年6月25日印发《关于规范夜市经营的实施意见》（西委办〔2025〕8号），"
        "源自报送 #1（区商务局）。"
    )
    assert reissued == "秘书：《关于规范夜市经营的实施意见》已经记录过（发文 #1），未重复记录。"
    assert xihu.count("leader_signoff") == signoffs + 1
    assert "**后续办理**" in minutes
    assert "- 签批：王明（区委书记）2025年6月20日就报送#1批示：“请区商务局总结推广”" in minutes
    assert (
        "- 发文：党委办2025年6月25日印发《关于规范夜市经营的实施意见》（西委办〔2025〕8号），"
        "源自报送#1"
    ) in minutes
    [(docx,)] = xihu.rows("SELECT docx FROM minutes_version")
    paragraphs = [p.text for p in Document(io.BytesIO(docx)).paragraphs]
    assert "六、后续办理" in paragraphs
    assert "王明（区委书记）2025年6月20日就报送#1批示：“请区商务局总结推广”。" in paragraphs
    status = await xihu.answer(MODERATOR, "/协商 状态")
    assert (
        "报送 #1 区商务局：已答复（A 已解决，按期），1 人评价：办理 5.0，结果 4.0；"
        "签批 1 次，发文 1 件"
    ) in status
    # Counted once at every level up the tree, and nowhere else.
    counted = {
        row.unit.name: (row.total.signoffs, row.total.documents, row.total.party_documents)
        for row in year.table().rows
        if row.total.signoffs or row.total.documents
    }
    assert counted == dict.fromkeys(("西湖区", "杭州市", "浙江省"), (1, 1, 1))


async def test_a_signoff_or_document_recorded_in_error_is_withdrawn_by_the_secretary(
    xihu_only: Year,
) -> None:
    year = xihu_only
    xihu = year.groups["西湖"]
    await year.secretary("西湖", "/签批 #1 王铭 区委书记 2025-06-20 请总结推广")
    await year.secretary("西湖", "/发文 #1 党委办 《关于规范夜市经营的实施意建》 2025-06-25")
    await year.secretary("西湖", "/发文 #1 党委办 《关于夜市噪声的通知》 2025-06-26")
    await xihu.group_sees()
    await year.secretary("西湖", "/纪要")
    await year.app.minutes.drain()
    [(first_version,)] = xihu.rows("SELECT markdown FROM minutes_version")

    by_member = await xihu.answer("张三", "/发文 撤销 #1")
    unknown = await year.secretary("西湖", "/发文 撤销 #1 #9")
    kept = (xihu.count("leader_signoff"), xihu.count("policy_document"))
    withdrawn = await year.secretary("西湖", "/签批 撤销 #1")
    also_withdrawn = await year.secretary("西湖", "/发文 撤销 #1")
    signed = await year.secretary("西湖", "/签批 #1 王明 区委书记 2025-06-20 请总结推广")
    issued = await year.secretary(
        "西湖", "/发文 #1 党委办 《关于规范夜市经营的实施意见》 2025-06-25"
    )
    await xihu.group_sees()
    await year.secretary("西湖", "/纪要")
    await year.app.minutes.drain()
    latest = (await xihu.group_sees())[-2]

    assert by_member.startswith("张三：/发文 撤销 仅限秘书使用。")
    assert unknown == "秘书：本群没有发文 #9，请核对编号（记录时回复的 发文 #N）。"
    assert kept == (1, 2)
    assert withdrawn == (
        "已撤销签批 #1 王铭（区委书记）的批示。统计和之后的纪要不再计入；已生成的纪要版本保持原样。"
    )
    assert also_withdrawn.startswith("已撤销发文 #1《关于规范夜市经营的实施意建》。")
    # Numbers are not given again: the corrected records are #2 and #3.
    assert signed.startswith("签批 #2：王明（区委书记）")
    assert issued.startswith("发文 #3：党委办2025年6月25日印发《关于规范夜市经营的实施意见》")
    assert "王铭" not in latest
    assert "实施意建" not in latest
    assert "王明（区委书记）" in latest
    assert "《关于规范夜市经营的实施意见》" in latest
    # The version issued before keeps what it said.
    assert xihu.rows("SELECT markdown FROM minutes_version ORDER BY number")[0] == (first_version,)
    assert "王铭" in first_version
    counted = {
        row.unit.name: (row.total.signoffs, row.total.documents, row.total.party_documents)
        for row in year.table().rows
        if row.total.signoffs or row.total.documents
    }
    assert counted == dict.fromkeys(("西湖区", "杭州市", "浙江省"), (1, 2, 2))


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/签批", "请写出领导姓名、职务和批示内容"),
        ("/签批 王明 12月1日 同意", "请在日期前写出领导的职务"),
        ("/签批 #1 王明 区委书记 2099-01-01 同意", "2099-01-01 还没到，请写已经过去的日期。"),
        ("/签批 #9 王明 区委书记 同意", "本群没有报送 #9，请核对编号。"),
        ("/发文 省委 《关于…的意见》", "发文机关应为 党委、党委办、政府、政府办 或 部门"),
        ("/发文 政府办 关于夜市的意见", "请把文件标题写在《》中"),
        ("/发文 政府办 《关于夜市的意见》 下周", "《》之后只能写发文日期"),
        ("/本群 单位 东海省", "没有单位「东海省」。config.yaml 中的单位有：浙江省、杭州市"),
        ("/统计 单位 东海省", "没有单位「东海省」，请核对名称"),
        ("/统计 单位 西湖区 明年", "请写年份"),
    ],
)
async def test_bad_input_gets_a_chinese_answer_and_changes_nothing(
    sqlite_url: str, clock: ManualClock, sender: RecordingSender, text: str, answer: str
) -> None:
    async with running_app(make_settings(sqlite_url, units=UNITS), clock, sender) as app:
        group = Group(app, clock, sender, "西湖")
        await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
        await group.say("张三", "/建议 设置降噪屏障")
        await group.say(MODERATOR, "/协商 阶段 报送意见")
        await group.say(SECRETARY, "/报送 #1 区商务局", role=Role.SECRETARY)

        reply = await group.answer(SECRETARY, text, role=Role.SECRETARY)

        assert answer in reply
        assert group.count("leader_signoff") + group.count("policy_document") == 0
        assert group.count("group_unit") == 0


async def test_without_units_in_config_the_secretary_is_told_where_to_list_them(
    group: Group,
) -> None:
    answer = await group.answer(SECRETARY, "/本群 单位 西湖区", role=Role.SECRETARY)
    table = await group.answer(SECRETARY, "/统计 单位", role=Role.SECRETARY)

    assert answer == (
        "秘书：还没有配置单位：请在 config.yaml 的 units.tree 中列出单位，"
        "再发送 /本群 单位 <单位名>。"
    )
    assert table == "秘书：还没有配置单位：请在 config.yaml 的 units.tree 中列出单位。"


def test_principal_leaders_are_known_by_their_office_not_by_a_deputys() -> None:
    rule = make_settings("sqlite://").units.principal_rule()

    assert rule.matches(name="王明", department="区委", title="书记")
    assert rule.matches(name="赵刚", department="", title="杭州市市长")
    assert rule.matches(name="周敏", department="转塘街道党工委", title="书记")
    assert not rule.matches(name="刘洋", department="区政府", title="副区长")
    assert not rule.matches(name="孙立", department="市纪委", title="书记")
    assert not rule.matches(name="钱进", department="市民政局", title="局长")
    assert PrincipalRule(names=frozenset({"钱进"})).matches(name="钱进", department="", title="")

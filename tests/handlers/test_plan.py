"""The plan, the research notes, and who attended."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import Session

from bot.core.clock import ManualClock
from bot.core.settings import AttendanceSettings, LeaderEntry, RoleSettings, SectorEntry
from bot.runtime.app import App
from storage.attendance import Guest, consultation_attendance
from storage.enums import Role
from storage.plans import get_plan, list_research_notes
from tests.conftest import make_settings, running_app
from tests.support import MODERATOR, Group, RecordingSender


async def in_stage(group: Group, stage: str) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
    await group.say(MODERATOR, f"/协商 阶段 {stage}")
    await group.group_sees()


async def test_the_moderator_records_the_plan_and_may_change_it(group: Group) -> None:
    await in_stage(group, "制订方案")

    first = await group.answer(
        MODERATOR, "/方案 时间 12月5日下午 地点 区政协三楼 部门 区住建局、区财政局 领导 王副区长"
    )
    await group.answer(MODERATOR, "/方案 时间 12月6日上午 形式 线上群聊 邀请部门 区住建局")

    assert first.splitlines() == [
        "协商方案（主持人记录）：",
        "时间：12月5日下午",
        "地点/形式：区政协三楼",
        "邀请部门：区住建局、区财政局",
        "邀请领导：王副区长",
    ]
    with Session(group.app.engine) as session:
        plan = get_plan(session, consultation_id=1)
    assert plan is not None
    assert (plan.schedule, plan.place, plan.departments, plan.leaders) == (
        "12月6日上午",
        "线上群聊",
        ["区住建局"],
        ["王副区长"],
    )
    assert group.count("consultation_plan") == 1


async def test_a_short_plan_changes_only_the_fields_it_names(group: Group) -> None:
    await in_stage(group, "制订方案")
    await group.say(
        MODERATOR,
        "/方案 时间 11月28日下午 地点 区政协三楼 部门 区住建局、区财政局 领导 王副区长 "
        "说明 请各部门提前准备材料",
    )

    answer = await group.answer(MODERATOR, "/方案 时间 11月29日上午")

    assert answer.splitlines() == [
        "已更新方案：时间（主持人），其余各项不变：",
        "时间：11月29日上午",
        "地点/形式：区政协三楼",
        "邀请部门：区住建局、区财政局",
        "邀请领导：王副区长",
        "说明：请各部门提前准备材料",
    ]
    with Session(group.app.engine) as session:
        plan = get_plan(session, consultation_id=1)
    assert plan is not None
    assert (plan.schedule, plan.place, plan.departments, plan.leaders, plan.notes) == (
        "11月29日上午",
        "区政协三楼",
        ["区住建局", "区财政局"],
        ["王副区长"],
        "请各部门提前准备材料",
    )


async def test_writing_none_clears_a_field_and_a_bare_field_name_changes_nothing(
    group: Group,
) -> None:
    await in_stage(group, "制订方案")
    await group.say(MODERATOR, "/方案 时间 11月28日下午 地点 区政协三楼 领导 王副区长 说明 带材料")

    cleared = await group.answer(MODERATOR, "/方案 领导 无 说明 无")
    bare = await group.answer(MODERATOR, "/方案 时间 11月30日 地点")

    assert cleared.splitlines() == [
        "已更新方案：清空邀请领导、说明（主持人），其余各项不变：",
        "时间：11月28日下午",
        "地点/形式：区政协三楼",
    ]
    assert "「地点」后面没有内容；要清空这一项，请写 地点 无。" in bare
    with Session(group.app.engine) as session:
        plan = get_plan(session, consultation_id=1)
    assert plan is not None
    assert (plan.schedule, plan.place, plan.leaders, plan.notes) == (
        "11月28日下午",
        "区政协三楼",
        [],
        "",
    )


async def test_only_the_moderator_records_the_plan_and_only_while_planning(
    group: Group,
) -> None:
    await in_stage(group, "制订方案")

    by_member = await group.answer("张三", "/方案 时间 明天")
    await group.say(MODERATOR, "/协商 阶段 开展协商")
    too_late = await group.answer(MODERATOR, "/方案 时间 明天")
    empty = await group.answer(MODERATOR, "/协商 阶段 制订方案")
    blank = await group.answer(MODERATOR, "/方案")

    assert "仅限主持人使用" in by_member
    assert "在「制订方案」、「组织调研」阶段可用" in too_late
    assert "进入第 2 步「制订方案」" in empty
    assert "用法：/方案" in blank
    assert group.count("consultation_plan") == 0


async def test_members_attach_research_notes_for_the_minutes(group: Group) -> None:
    await in_stage(group, "组织调研")

    await group.say("张三", "/调研 走访了3个小区，60%的住户支持加装")
    await group.say("李四", "/调研 低层住户担心采光")
    seen = await group.group_sees()

    assert seen == ["已记录 2 份调研材料 #1–#2"]
    with Session(group.app.engine) as session:
        notes = list_research_notes(session, consultation_id=1)
    assert [(n.number, n.text) for n in notes] == [
        (1, "走访了3个小区，60%的住户支持加装"),
        (2, "低层住户担心采光"),
    ]


@pytest.fixture
async def configured_app(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[App]:
    """A bot whose config knows sectors, a secretary and a leader."""
    settings = make_settings(
        ready_database_url,
        roles=RoleSettings(secretaries=["test:id-秘书"]),
        attendance=AttendanceSettings(
            sectors=[
                SectorEntry(member="test:id-张三", sector="经济界"),
                SectorEntry(member="test:id-李四", sector="医卫界"),
            ],
            leaders=[LeaderEntry(member="test:id-陈局长", department="区住建局", title="局长")],
        ),
    )
    async with running_app(settings, clock, sender) as bot:
        yield bot


async def test_attendance_lists_members_with_sector_and_the_leaders_present(
    configured_app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    group = Group(configured_app, clock, sender)
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
    await group.say("张三", "/意见 先试点")
    await group.say("李四", "/建议 补贴低层住户")
    await group.say("陈局长", "/帮助")
    recorded = await group.answer("秘书", "/出席 @王明 区财政局 副局长")
    corrected = await group.answer("秘书", "/出席 王明 区财政局 局长")

    listing = await group.answer(MODERATOR, "/出席")

    assert recorded == "秘书：已记录出席：王明（区财政局 副局长）"
    assert corrected == "秘书：已更新出席：王明（区财政局 局长）"
    assert listing.splitlines() == [
        "参与委员 2 人：张三（经济界）、李四（医卫界）",
        "主持和工作人员 2 人：主持人（主持人）、秘书（秘书）",
        "出席的领导和部门代表 2 人：王明（区财政局 局长）、陈局长（区住建局 局长）",
    ]
    with Session(configured_app.engine) as session:
        attendance = consultation_attendance(session, consultation_id=1)
    first = attendance.participants[0]
    assert (first.name, first.sector, first.roles) == (
        "张三",
        "经济界",
        (Role.MEMBER,),
    )
    assert attendance.guests[1] == Guest("陈局长", "区住建局", "局长", recorded=False)


async def test_only_the_moderator_or_secretary_records_attendance(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")

    by_member = await group.answer("张三", "/出席 王明 区财政局")
    malformed = await group.answer(MODERATOR, "/出席 王明")

    assert "/出席 仅限主持人、秘书使用" in by_member
    assert "请写出姓名和部门" in malformed
    assert group.count("guest_attendance") == 0

"""/出席 and /统计 count the committee members who took part, and list the staff apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot.core.clock import ManualClock
from bot.core.router import CommandTable
from bot.core.settings import RoleSettings
from bot.runtime.app import App
from handlers import ROUTERS
from storage.attendance import (
    STAFF_COMMANDS,
    TAKING_PART,
    attendances,
    consultation_attendance,
)
from storage.enums import Role
from storage.models import Consultation
from tests.conftest import make_settings, running_app
from tests.support import MODERATOR, Group, RecordingSender


async def secretary(group: Group, text: str) -> str:
    return await group.answer("秘书", text, role=Role.SECRETARY)


async def a_consultation_with_staff_and_onlookers(group: Group) -> None:
    """Four members take part in four ways; two only asked or were refused; a secretary
    and a department liaison (their roles known from the platform alone) do their work."""
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say("张三", "/建议 设置降噪屏障")
    await group.say("李四", "/附议 #1")
    await group.say("王五", "/赞同 #1")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")
    await group.say("赵六", "/投 1")
    await group.say("孙七", "/投票 我也想发起 | 是 | 否")  # refused: not a moderator
    await group.say("孙七", "/附议 #9")  # refused: no such statement
    await group.say("周八", "/协商 状态")
    await secretary(group, "/出席 王明 市民政局 副局长")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await secretary(group, "/报送 #1 市民政局")
    await group.say("联络员", "/反馈 #1 A 已设置降噪屏障", role=Role.LIAISON)


async def test_attendance_counts_members_who_took_part_and_lists_staff_with_roles(
    group: Group,
) -> None:
    await a_consultation_with_staff_and_onlookers(group)

    listing = await secretary(group, "/出席")

    assert listing.splitlines() == [
        "参与委员 4 人：张三、李四、王五、赵六",
        "主持和工作人员 3 人：主持人（主持人）、秘书（秘书）、联络员（部门联络员）",
        "出席的领导和部门代表 1 人：王明（市民政局 副局长）",
    ]
    with Session(group.app.engine) as session:
        attendance = consultation_attendance(session, consultation_id=1)
    assert [p.name for p in attendance.participants] == ["张三", "李四", "王五", "赵六"]
    assert [(p.name, p.roles) for p in attendance.staff] == [
        ("主持人", (Role.MEMBER, Role.MODERATOR)),
        ("秘书", (Role.MEMBER, Role.SECRETARY)),
        ("联络员", (Role.MEMBER, Role.LIAISON)),
    ]


async def test_each_consultation_of_a_group_has_its_own_attendance_read_all_at_once(
    group: Group, clock: ManualClock
) -> None:
    # Three sessions of one group, the last still open: whoever spoke in one is not counted
    # in the others, and reading them together (as a year's table does) gives the same.
    await a_consultation_with_staff_and_onlookers(group)
    await group.say(MODERATOR, "/协商 结束")
    clock.advance(timedelta(days=7))
    await group.say(MODERATOR, "/协商 开始 社区食堂")
    await group.say("吴九", "/意见 要照顾老人口味")
    await secretary(group, "/出席 刘洋 区政府 副区长")
    await group.say(MODERATOR, "/协商 结束")
    clock.advance(timedelta(days=7))
    await group.say("郑十", "在两场协商之间说的话")
    await group.say(MODERATOR, "/协商 开始 公交站点")
    await group.say("钱一", "/建议 增设站点")

    with Session(group.app.engine) as session:
        consultations = list(session.exec(select(Consultation).order_by(col(Consultation.id))))
        together = attendances(session, consultations)
        apart = {
            c.id: consultation_attendance(session, consultation_id=c.id)
            for c in consultations
            if c.id is not None
        }

    assert together == apart
    assert [[p.name for p in apart[n].participants] for n in (1, 2, 3)] == [
        ["张三", "李四", "王五", "赵六"],
        ["吴九"],
        ["钱一"],
    ]
    assert [[g.name for g in apart[n].guests] for n in (1, 2, 3)] == [["王明"], ["刘洋"], []]
    assert [[p.name for p in apart[n].staff] for n in (1, 2, 3)] == [
        ["主持人", "秘书", "联络员"],
        ["主持人", "秘书"],
        ["主持人"],
    ]


async def test_statistics_count_the_same_members(group: Group) -> None:
    await a_consultation_with_staff_and_onlookers(group)

    stats = await secretary(group, "/统计")

    assert "参与委员 4 人，4 人次；领导和部门负责人出席 1 人次" in stats


@pytest.fixture
async def configured_app(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[App]:
    """A bot whose config names a secretary."""
    settings = make_settings(ready_database_url, roles=RoleSettings(secretaries=["test:id-刘秘书"]))
    async with running_app(settings, clock, sender) as bot:
        yield bot


async def test_a_configured_secretary_who_votes_is_staff_not_a_member(
    configured_app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    group = Group(configured_app, clock, sender)
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")
    await group.say("刘秘书", "/投 2")
    await group.say("张三", "/投 1")

    listing = await group.answer("刘秘书", "/出席")

    assert listing.splitlines()[:2] == [
        "参与委员 1 人：张三",
        "主持和工作人员 2 人：主持人（主持人）、刘秘书（秘书）",
    ]


def test_the_command_lists_agree_with_the_commands_the_bot_answers() -> None:
    commands = {command.name: command for command in CommandTable(ROUTERS).commands}
    texts = {command.name for command in CommandTable(ROUTERS).text_handlers}

    assert {
        name: command.roles for name, command in commands.items() if command.roles is not None
    } == STAFF_COMMANDS
    member_commands = {name for name, command in commands.items() if command.roles is None}
    assert TAKING_PART.issubset(member_commands | texts)

"""Referrals to departments, their replies, reminders of deadlines, and 督办."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from sqlmodel import Session, col, select

from bot.core.clock import ManualClock
from bot.core.messages import Mention
from bot.runtime.app import App
from storage.engine import make_engine, upgrade_database
from storage.enums import Role
from storage.step_tables import Referral
from tests.conftest import make_settings, running_app
from tests.support import MODERATOR, Group, RecordingSender

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRETARY = "秘书"
LIAISON = "联络员"


def referrals(group: Group) -> list[Referral]:
    with Session(group.app.engine) as session:
        return list(session.exec(select(Referral).order_by(col(Referral.number))))


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def ready_to_refer(group: Group) -> None:
    """A consultation with two suggestions and an opinion, moved on to 报送意见."""
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say("张三", "/建议 设置降噪屏障")
    await group.say("李四", "/建议 增设公共厕所")
    await group.say("王五", "/意见 夜市很热闹")
    await group.say("李四", "/附议 #1")
    await group.say("王五", "/附议 #1")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.group_sees()


async def as_secretary(group: Group, text: str) -> str:
    return await group.answer(SECRETARY, text, role=Role.SECRETARY)


async def as_liaison(group: Group, text: str) -> str:
    return await group.answer(LIAISON, text, role=Role.LIAISON)


async def reminders_at(group: Group, clock: ManualClock, moment: datetime) -> list[str]:
    clock.set(moment)
    return await group.app.scheduler.run_due(moment)


async def test_the_letter_follows_as_its_word_file_exactly_as_issued(group: Group) -> None:
    await ready_to_refer(group)

    await as_secretary(group, "/报送 #1 市民政局")
    seen = await group.group_sees()

    [sent] = [m for m in group.sender.sent if m.kind == "file"]
    [(letter_id, docx)] = group.rows("SELECT id, docx FROM referral_letter")
    assert sent.file is not None
    assert (sent.file.source, sent.file.id, sent.file.name) == (
        "letter",
        letter_id,
        f"报送函-{letter_id}.docx",
    )
    assert seen[-1] == (
        f"报送函（协商报送〔2026〕{letter_id}号，Word）："
        f"http://127.0.0.1:8080/console/consultations/1/letters/{letter_id}.docx"
        "（秘书登录协商助手后台后下载）"
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(docx))).paragraphs)
    assert "设置降噪屏障" in text


async def test_a_referral_posts_the_letter_with_proposers_and_seconders(group: Group) -> None:
    await ready_to_refer(group)

    await as_secretary(group, "/报送 #1 #3 市民政局 协办 市财政局、市城管局 期限 30天")
    seen = await group.group_sees()

    assert (
        seen[0] == "报送 #1：#1、#3 已报送市民政局，市财政局、市城管局协办，请于 12月24日 前答复。"
    )
    letter = seen[1]
    assert letter.startswith("协商报送〔2026〕1号")
    assert "## 关于报送「夜市延长营业时间」协商意见建议的函" in letter
    assert "市民政局：" in letter
    assert "请于2026年12月24日前答复" in letter
    assert (
        "**一、建议**\n\n（一）#1 设置降噪屏障（提出：张三；附议：李四、王五，共 2 人）" in letter
    )
    assert "**二、意见**\n\n（一）#3 夜市很热闹（提出：王五）" in letter
    assert "抄送：市财政局、市城管局（协办）" in letter
    assert [(r.number, r.lead_department, r.co_departments) for r in referrals(group)] == [
        (1, "市民政局", ["市财政局", "市城管局"])
    ]
    assert group.count("referral_item") == 2


async def test_a_deadline_may_be_a_date_or_the_configured_default(group: Group) -> None:
    await ready_to_refer(group)

    dated = await as_secretary(group, "/报送 #1 市民政局 期限 12月31日")
    default = await as_secretary(group, "/报送 #2 市财政局")

    assert "请于 12月31日 前答复" in dated
    assert "请于 12月24日 前答复" in default  # 30 days, from config
    # The last day on which a reply is on time, a local date, as the chat says it.
    assert [r.due_on for r in referrals(group)] == [date(2026, 12, 31), date(2026, 12, 24)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/报送 市民政局", "请先写出要报送的意见建议编号"),
        ("/报送 #1", "请写出主办单位"),
        ("/报送 #1 市民政局 市财政局", "主办单位只能写一个"),
        ("/报送 #1 市民政局 期限 下个月", "无法识别期限「下个月」"),
        ("/报送 #1 市民政局 期限 0天", "期限应在 1 到 366 天之间"),
        ("/报送 #1 市民政局 期限 2026-11-01", "期限 2026-11-01 已过"),
        ("/报送 #1 市民政局 协办", "请在「协办」后写出协办单位"),
        ("/报送 #9 市民政局", "没有找到 #9"),
    ],
)
async def test_a_malformed_referral_is_explained_and_changes_nothing(
    group: Group, text: str, expected: str
) -> None:
    await ready_to_refer(group)

    answer = await as_secretary(group, text)

    assert expected in answer
    assert group.count("referral") == 0
    assert group.count("sequence_counter", "name = 'referral'") == 0


async def test_the_same_suggestion_goes_to_a_department_once(group: Group) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局")

    again = await as_secretary(group, "/报送 #1 #2 市民政局")
    elsewhere = await as_secretary(group, "/报送 #1 市城管局")

    assert "#1 已报送市民政局（报送 #1）" in again
    assert elsewhere.startswith("报送 #2：")
    assert group.count("referral") == 2


async def test_only_the_secretary_refers(group: Group) -> None:
    await ready_to_refer(group)

    answer = await group.answer(MODERATOR, "/报送 #1 市民政局")

    assert "/报送 仅限秘书使用" in answer
    assert group.count("referral") == 0


async def test_a_reply_tells_proposers_and_seconders_by_name(
    group: Group, sender: RecordingSender
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局 期限 30天")
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    await group.group_sees()

    await as_liaison(group, "/反馈 #1 A 已在夜市东西两侧设置降噪屏障")
    [notice] = await group.group_sees()

    assert notice.splitlines() == [
        "报送 #1 收到市民政局的答复（A 已解决，按期答复）：",
        "已在夜市东西两侧设置降噪屏障",
        "张三、李四、王五：你们提出或附议的 #1 有了答复，"
        "可发送 /评价 #1 办理 5 结果 4 <意见> 评价。",
    ]
    assert sender.sent[-1].mentions == ("id-张三", "id-李四", "id-王五")
    assert group.rows("SELECT reply_class, on_time FROM referral_reply") == [("solved", True)]


async def test_a_reply_after_the_consultation_closed_finds_its_referral(
    group: Group, sender: RecordingSender
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局")  # 报送 #1
    await group.say(MODERATOR, "/协商 结束")
    await group.say(MODERATOR, "/协商 开始 菜市场提升")
    await group.say("张三", "/建议 增设遮雨棚")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await as_secretary(group, "/报送 #1 市商务局")  # the group's second: 报送 #2
    await group.group_sees()

    await as_liaison(group, "/反馈 #1 B 降噪屏障已列入明年计划")
    [notice] = await group.group_sees()

    assert notice.splitlines()[0] == (
        "「夜市延长营业时间」的报送 #1 收到市民政局的答复（B 正在解决，按期答复）："
    )
    # During 「菜市场提升」, #1 is 增设遮雨棚: the reply names the consultation its #1 is of.
    assert notice.splitlines()[2] == (
        "张三、李四、王五：你们提出或附议的 「夜市延长营业时间」协商中的 #1 有了答复，"
        "可发送 /评价 #1 办理 5 结果 4 <意见> 评价。"
    )
    assert group.rows(
        "SELECT referral.number, lead_department, reply_class FROM referral_reply"
        " JOIN referral ON referral.id = referral_reply.referral_id"
    ) == [(1, "市民政局", "in_progress")]
    assert [(r.number, r.lead_department) for r in referrals(group)] == [
        (1, "市民政局"),
        (2, "市商务局"),
    ]


async def test_a_reply_with_no_consultation_open_is_recorded(group: Group) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局")
    await group.say(MODERATOR, "/协商 结束")
    await group.group_sees()

    await as_liaison(group, "/反馈 1 A 已设置降噪屏障")  # the # left out, as /附议 1 allows

    assert group.rows("SELECT reply_class FROM referral_reply") == [("solved",)]


async def test_a_second_reply_waits_for_a_reopening(group: Group, clock: ManualClock) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局 期限 30天")
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    await as_liaison(group, "/反馈 #1 C类 列入明年计划")

    twice = await as_liaison(group, "/反馈 #1 A 已经解决")
    by_member = await group.answer("张三", "/重办 #1 不满意")
    reopened = await as_secretary(group, "/重办 #1 委员认为应今年解决 期限 10天")
    answered = await as_liaison(group, "/反馈 #1 A 已解决 提前到今年实施")

    assert "已于 11月24日 09:00 答复（C 列入计划）" in twice
    assert "/重办 仅限主持人、秘书使用" in by_member
    assert reopened.startswith(
        "报送 #1 的答复（C 列入计划）退回重办：委员认为应今年解决\n"
        "请市民政局于 12月4日 前重新答复。\n协商重办〔2026〕2号"
    )
    assert "（A 已解决，按期答复）" in answered
    assert group.rows(
        "SELECT reply_class, text, reopened_at IS NOT NULL, reopen_reason "
        "FROM referral_reply ORDER BY id"
    ) == [
        ("planned", "列入明年计划", True, "委员认为应今年解决"),
        ("solved", "提前到今年实施", False, ""),
    ]


async def test_a_member_cannot_record_a_reply(group: Group) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局")

    answer = await group.answer("张三", "/反馈 #1 A 已解决")

    assert "/反馈 仅限秘书、部门联络员使用" in answer
    assert group.count("referral_reply") == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/反馈 A 已解决", "请写出报送编号、答复分类和答复内容"),
        ("/反馈 #1 E 已解决", "无法识别答复分类「E」"),
        ("/反馈 #1 A", "请写出答复内容"),
        ("/反馈 #1 A 已解决", "请写出答复内容"),
        ("/反馈 #7 A 办好了", "本群没有报送 #7"),
    ],
)
async def test_a_malformed_reply_is_explained_and_changes_nothing(
    group: Group, text: str, expected: str
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市民政局")

    answer = await as_liaison(group, text)

    assert expected in answer
    assert group.count("referral_reply") == 0


async def test_reminders_come_before_the_deadline_and_weekly_after_it(
    group: Group, clock: ManualClock
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #2 市财政局 期限 30天")  # 报送 #1, last day 12月24日

    early = await reminders_at(group, clock, at(12, 17, 8, 59))
    week_before = await reminders_at(group, clock, at(12, 17))
    again = await reminders_at(group, clock, at(12, 17, 12))
    day_before = await reminders_at(group, clock, at(12, 23))
    missed = await reminders_at(group, clock, at(12, 25))
    week_later = await reminders_at(group, clock, at(1, 1, year=2027))
    overdue = await group.answer("张三", "/督办")

    assert early == []
    assert week_before == [
        "督办提醒：报送 #1（夜市延长营业时间）市财政局的答复期限是 12月24日，还有 7 天。"
        "答复后请发送 /反馈 #1 <A|B|C|未采纳> <答复内容>。"
    ]
    assert again == []
    assert "还有 1 天" in day_before[0]
    assert missed == [
        "督办：报送 #1（夜市延长营业时间）市财政局已逾期 1 天（期限 12月24日），尚未答复。"
        "发送 /督办 查看全部逾期报送。"
    ]
    assert "已逾期 8 天" in week_later[0]
    assert overdue == (
        "逾期未答复的报送 1 件：\n报送 #1「夜市延长营业时间」市财政局：期限 12月24日，逾期 8 天"
    )


async def test_reminders_go_on_after_the_close_until_the_reply(
    group: Group, clock: ManualClock
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #2 市财政局 期限 30天")  # last day 12月24日
    await group.say(MODERATOR, "/协商 结束")
    closing = "\n".join(await group.group_sees())

    week_before = await reminders_at(group, clock, at(12, 17))
    overdue = await reminders_at(group, clock, at(12, 25))
    await as_liaison(group, "/反馈 #1 B 正在选址")

    assert "尚有 1 件报送未答复（#1），答复前仍按期提醒" in closing
    assert [len(week_before), len(overdue)] == [1, 1]
    assert week_before[0].startswith("督办提醒：报送 #1（夜市延长营业时间）市财政局")
    assert "已逾期 1 天" in overdue[0]
    assert await reminders_at(group, clock, at(1, 1, year=2027)) == []


async def test_a_reply_stops_the_reminders(group: Group, clock: ManualClock) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #2 市财政局 期限 30天")
    await reminders_at(group, clock, at(12, 17))
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    await as_liaison(group, "/反馈 #1 B 正在选址")

    assert await reminders_at(group, clock, at(12, 23)) == []
    assert await reminders_at(group, clock, at(1, 1, year=2027)) == []
    assert await group.answer("张三", "/督办") == "目前没有逾期未答复的报送。"


async def test_reminders_missed_while_the_bot_was_down_come_as_one(
    group: Group, clock: ManualClock
) -> None:
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #2 市财政局 期限 30天")

    late = await reminders_at(group, clock, at(12, 26))

    assert len(late) == 1
    assert "已逾期 2 天" in late[0]
    assert group.count("referral_reminder") == 3  # 7 days, 1 day, missed: each kept once


def bot(url: str, clock: ManualClock, sender: RecordingSender) -> App:
    return App(
        make_settings(url),
        clock=clock,
        adapters=[sender],
        secret=b"k",
        fire_jobs=False,
        serve_web=False,
    )


async def test_reminders_survive_a_restart_and_are_not_sent_twice(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    first = bot(ready_database_url, clock, sender)
    await first.start()
    group = Group(first, clock, sender)
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #2 市财政局 期限 30天")
    sent_before_restart = await reminders_at(group, clock, at(12, 17))
    # As if the process died after posting but before the scheduler dropped the job.
    await first.stop()

    second = bot(ready_database_url, clock, sender)
    await second.start()
    try:
        group = Group(second, clock, sender)
        assert second.scheduler.job_ids() == ["referral-1-20261224:before1"]
        assert await reminders_at(group, clock, at(12, 17, 10)) == []
        day_before = await reminders_at(group, clock, at(12, 23))
    finally:
        await second.stop()

    assert len(sent_before_restart) == 1
    assert "还有 1 天" in day_before[0]
    assert group.count("referral_reminder") == 2


async def test_letters_posted_before_the_upgrade_keep_their_number_date_and_deadline(
    database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    # Before 0012 a deadline was the moment it passed (the start of the day after the last
    # day) and letters were rendered afresh from the referral each time they were asked for.
    # A fresh database: rows are numbered from 1 without naming their ids (which would
    # leave PostgreSQL's sequences behind).
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, "0009")
        with engine.begin() as connection:
            run = connection.exec_driver_sql
            referred = "2026-12-07 02:00:00+00:00"  # 12月7日 10:00 in Shanghai
            run(
                "INSERT INTO chat_group (platform, conversation_id, title, created_at)"
                f" VALUES ('test', '群1', '群1', '{referred}')"
            )
            run(
                "INSERT INTO member (platform, user_id, name, created_at)"
                f" VALUES ('test', 'id-张三', '张三', '{referred}')"
            )
            run(
                "INSERT INTO consultation (group_id, topic, stage, opened_by, opened_at,"
                " closed_at, opinion_seq, poll_seq) VALUES"
                f" (1, '夜市延长营业时间', 'refer', 1, '{referred}', NULL, 2, 0)"
            )
            run(
                "INSERT INTO opinion (consultation_id, number, member_id, kind, text,"
                " message_id, created_at) VALUES"
                f" (1, 1, 1, 'suggestion', '设置降噪屏障', 'm1', '{referred}'),"
                f" (1, 2, 1, 'suggestion', '增设公共厕所', 'm2', '{referred}')"
            )
            # Two referrals, answerable until 1月6日 and 12月31日 (passing at local midnight).
            for referral_id, passes in (
                (1, "2027-01-06 16:00:00+00:00"),
                (2, "2026-12-31 16:00:00+00:00"),
            ):
                run(
                    "INSERT INTO referral (consultation_id, number, lead_department,"
                    " co_departments, deadline, deadline_set_at, referred_by, referred_at,"
                    f" message_id) VALUES (1, {referral_id}, '市民政局', '[]',"
                    f" '{passes}', '{referred}', 1, '{referred}', 'r{referral_id}')"
                )
                run(
                    "INSERT INTO referral_item (referral_id, opinion_id)"
                    f" VALUES ({referral_id}, {referral_id})"
                )
            run("INSERT INTO group_counter (group_id, name, value) VALUES (1, 'referral', 2)")
    finally:
        engine.dispose()
    clock.set(at(12, 8))

    async with running_app(make_settings(database_url), clock, sender) as app:
        group = Group(app, clock, sender)
        await as_secretary(group, "/报送 #1 市城管局 期限 30天")
        letters = group.rows(
            "SELECT id, number, issued_on, due_on, markdown FROM referral_letter ORDER BY id"
        )

    assert [r.due_on for r in referrals(group)] == [
        date(2027, 1, 6),
        date(2026, 12, 31),
        date(2027, 1, 7),
    ]
    assert [(row[0], row[1], str(row[2]), str(row[3])) for row in letters] == [
        (1, "协商报送〔2026〕1号", "2026-12-07", "2027-01-06"),
        (2, "协商报送〔2026〕2号", "2026-12-07", "2026-12-31"),
        (3, "协商报送〔2026〕3号", "2026-12-08", "2027-01-07"),
    ]
    # Rendered once at start, with the number, date and deadline they were posted with.
    assert letters[0][4].startswith("协商报送〔2026〕1号")
    assert "请于2027年1月6日前答复" in letters[0][4]
    assert letters[0][4].endswith("2026年12月7日")
    assert "请于2026年12月31日前答复" in letters[1][4]


async def test_a_liaison_named_with_an_at_may_record_the_reply_and_is_told(
    group: Group, sender: RecordingSender
) -> None:
    await ready_to_refer(group)
    await group.say("李华", "大家好，我是市民政局联络员")
    refer = replace(
        group.message("秘书", "/报送 #1 市民政局 期限 30天 联络员 @李华", role=Role.SECRETARY),
        mentions=(Mention(user_id="id-李华", name="李华"),),
    )

    await group.app.dispatcher.dispatch(refer)
    await group.group_sees()
    reply = await group.answer("李华", "/反馈 #1 A 已在试点社区设置降噪屏障")
    stranger = replace(
        group.message("秘书", "/报送 #2 市城管局 联络员 @王芳", role=Role.SECRETARY),
        mentions=(Mention(name="王芳"),),
    )
    refused = await group.app.dispatcher.dispatch(stranger)

    announcement = next(m for m in sender.sent if "报送 #1：" in m.body)
    assert "联络员 @李华 可发送 /反馈 #1 录入答复" in announcement.body
    assert "id-李华" in announcement.mentions
    assert "仅限" not in reply  # the role came with the @
    assert group.count("referral_reply") == 1
    assert "王芳" in refused.replies[0]
    assert "发言记录" in refused.replies[0]
    assert group.count("referral") == 1

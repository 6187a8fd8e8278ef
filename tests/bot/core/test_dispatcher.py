"""The one-transaction path: a failing handler undoes only itself; a failing database
acknowledges nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.args import Text
from bot.core.clock import ManualClock
from bot.core.context import Context
from bot.core.dispatcher import FAILED, NOT_STORED, Dispatcher, Status
from bot.core.errors import UserError
from bot.core.router import CommandTable, Router
from handlers import ROUTERS
from storage.database import Database
from storage.engine import make_engine
from storage.enums import OpinionKind, Stage
from storage.opinions import keep_opinion
from storage.polls import open_polls, record_ballot
from tests.conftest import make_settings
from tests.support import MODERATOR, Group, member_message

broken = Router("broken")


@broken.command("炸", usage="/炸 <内容>", summary="写下一条意见，然后出错", stages=None)
async def explode(ctx: Context, args: Text) -> None:
    """Write, then fail: the write must not survive."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    keep_opinion(
        ctx.session,
        consultation_id=consultation.id,
        member_id=ctx.member_id,
        kind=OpinionKind.OPINION,
        text=args.text,
        message_id="x",
        now=ctx.now,
    )
    raise RuntimeError("boom")


@broken.command("改主意", usage="/改主意 <内容>", summary="写下一条意见，然后拒绝", stages=None)
async def write_then_refuse(ctx: Context, args: Text) -> None:
    """Write, then refuse with an answer: the write must not survive either."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    keep_opinion(
        ctx.session,
        consultation_id=consultation.id,
        member_id=ctx.member_id,
        kind=OpinionKind.OPINION,
        text=args.text,
        message_id="y",
        now=ctx.now,
    )
    raise UserError("想了想，不记了。")


@broken.command("乱投", usage="/乱投 <序号>", summary="投给不存在的投票", stages=None)
async def vote_in_no_poll(ctx: Context, args: Text) -> None:
    """A ballot the database refuses (no such poll), found only when the batch's ballots
    are written together."""
    record_ballot(
        ctx.session, poll_id=999_999, voter_key="x", member_id=None, choices=[1], cast_at=ctx.now
    )


@broken.command("投了又悔", usage="/投了又悔 <序号>", summary="投票，然后拒绝", stages=None)
async def vote_then_refuse(ctx: Context, args: Text) -> None:
    """A ballot not yet written, then a refusal: the ballot must not be written."""
    poll = open_polls(ctx.session, consultation_id=ctx.require_consultation().id or 0)[0]
    assert poll.id is not None
    record_ballot(
        ctx.session, poll_id=poll.id, voter_key="悔", member_id=None, choices=[2], cast_at=ctx.now
    )
    raise UserError("还是不投了。")


async def test_a_ballot_the_database_refuses_spares_the_other_votes_of_its_batch(
    group: Group,
) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, broken])
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")

    outcomes = await group.deliver(
        [
            group.message("张三", "/投 1"),
            group.message("李四", "/乱投 1"),
            group.message("王五", "/投了又悔 2"),
            group.message("赵六", "/投 2"),
        ]
    )

    assert [o.status for o in outcomes] == ["ok", "error", "refused", "ok"]
    assert outcomes[1].replies == (f"李四：{FAILED}",)
    assert group.count("ballot") == 2
    assert not group.rows("SELECT id FROM ballot WHERE voter_key IN ('x', '悔')")


async def test_a_refusal_after_writing_undoes_the_writes(group: Group) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, broken])
    await group.say(MODERATOR, "/协商 开始 夜市")

    outcomes = await group.deliver(
        [
            group.message("张三", "/意见 第一条"),
            group.message("李四", "/改主意 不该留下"),
            group.message("王五", "/投票 假装是主持人 | 甲 | 乙"),
            group.message("王五", "/意见 第二条"),
        ]
    )

    assert [o.status for o in outcomes] == ["ok", "refused", "refused", "ok"]
    assert outcomes[1].replies == ("李四：想了想，不记了。",)
    assert group.rows("SELECT number, text FROM opinion ORDER BY id") == [
        (1, "第一条"),
        (2, "第二条"),
    ]


async def test_a_crashing_handler_undoes_its_writes_and_spares_the_batch(group: Group) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, broken])
    await group.say(MODERATOR, "/协商 开始 夜市")

    outcomes = await group.deliver(
        [
            group.message("张三", "/意见 第一条"),
            group.message("李四", "/炸 会消失的意见"),
            group.message("王五", "/意见 第二条"),
        ]
    )

    assert [o.status for o in outcomes] == ["ok", "error", "ok"]
    assert outcomes[1].replies == (f"李四：{FAILED}",)
    assert group.rows("SELECT text FROM opinion ORDER BY id") == [("第一条",), ("第二条",)]
    assert group.rows("SELECT outcome FROM inbound_event ORDER BY id")[-3:] == [
        ("ok",),
        ("error",),
        ("ok",),
    ]


async def test_an_unreachable_database_fails_the_dispatch(clock: ManualClock) -> None:
    settings = make_settings("postgresql://postgres@127.0.0.1:9/none?connect_timeout=2")
    database = Database(make_engine(settings.database.url))
    dispatcher = Dispatcher(
        database=database,
        commands=CommandTable(ROUTERS),
        settings=settings,
        clock=clock,
        ballot_secret=b"k",
    )
    try:
        with pytest.raises(OperationalError):
            await dispatcher.dispatch(member_message("张三", "/投 1", at=clock.now()))
    finally:
        database.close()


async def test_a_card_click_keeps_the_members_name_and_the_groups_title(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 夜市延长到23点？| 支持 | 反对")
    await group.say("张三", "/投 1")
    # A card click says who clicked, but neither their name nor the group's title.
    click = replace(group.click("张三", "poll:1", "2"), sender_name="", conversation_title="")

    outcome = await group.app.dispatcher.dispatch(click)

    assert outcome.replies == ("投票 #1：张三已改投",)
    assert group.rows("SELECT name FROM member WHERE user_id = 'id-张三'") == [("张三",)]
    assert group.rows("SELECT title FROM chat_group") == [("群1",)]


async def test_a_refused_card_click_is_worded_to_the_clicker_alone(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say(MODERATOR, "/投票 夜市延长到23点？| 支持 | 反对")
    await group.say(MODERATOR, "/结束投票")
    click = group.click("张三", "poll:1", "2")

    outcome = await group.app.dispatcher.dispatch(click)

    assert outcome.replies == ("投票 #1 已结束，发送 /结果 #1 查看结果。",)
    assert group.count("ballot") == 0


listening = Router("listening")


@listening.on_text(name="发言", usage="直接对协商助手说", summary="发言", stages=[Stage.CONSULT])
async def echo_remark(ctx: Context, args: Text) -> None:
    """Answer plain text while the consultation is in its consult stage."""
    ctx.reply(f"听到了：{args.text}")


async def test_plain_text_goes_to_the_stage_text_handler_or_gets_the_hint(group: Group) -> None:
    group.app.dispatcher.commands = CommandTable([listening, *ROUTERS])

    before = await group.say("张三", "电梯什么时候装？")
    await group.say(MODERATOR, "/协商 开始 加装电梯")
    during = await group.say("张三", "电梯什么时候装？")

    assert before.status is Status.HINT
    assert before.replies[0].startswith("张三：这句话未记录：本群当前没有进行中的协商。")
    assert (during.status, during.command, during.replies) == (
        "ok",
        "发言",
        ("张三：听到了：电梯什么时候装？",),
    )


def refuse_inbound_from(group: Group, sender_id: str) -> None:
    """Make the database itself refuse to record messages from `sender_id`, as it refuses a
    value it cannot store (PostgreSQL: a DataError; SQLite: a failed constraint)."""
    with group.app.engine.begin() as connection:
        if group.app.engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN"
                f" IF NEW.sender_id = '{sender_id}' THEN"
                " RAISE EXCEPTION 'refused' USING ERRCODE = '22001'; END IF;"
                " RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON inbound_event"
                " FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON inbound_event"
                f" WHEN NEW.sender_id = '{sender_id}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )


async def test_a_message_the_database_refuses_is_answered_alone_and_its_batch_commits(
    group: Group,
) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.group_sees()
    refuse_inbound_from(group, "id-王五")
    batch = [
        group.message(name, f"/意见 {name}的意见")
        for name in ("张三", "李四", "王五", "赵六", "钱七")
    ]

    outcomes = await group.deliver(batch)
    seen = await group.group_sees()

    assert [o.status for o in outcomes] == [Status.OK] * 2 + [Status.ERROR] + [Status.OK] * 2
    assert sorted(text for (text,) in group.rows("SELECT text FROM opinion")) == sorted(
        f"{name}的意见" for name in ("张三", "李四", "赵六", "钱七")
    )
    said = "\n".join(seen)
    assert "已记录 4 条意见 #1–#4" in said
    assert f"王五：{NOT_STORED}" in said

"""Deadlines outlive the process that set them, and fire once."""

from __future__ import annotations

import pickle
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.core.clock import ManualClock, SystemClock
from bot.core.context import Context, ScheduledJob
from bot.core.router import CommandTable, Router
from bot.runtime.app import App
from handlers import ROUTERS
from storage.engine import make_engine, upgrade_database
from tests.conftest import make_settings
from tests.support import MODERATOR, Group, RecordingSender


def bot(url: str, clock: ManualClock | SystemClock, sender: RecordingSender, *, fire: bool) -> App:
    return App(
        make_settings(url),
        clock=clock,
        adapters=[sender],
        secret=b"k",
        fire_jobs=fire,
        serve_web=False,
    )


async def test_a_poll_deadline_survives_a_restart(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    first = bot(ready_database_url, clock, sender, fire=False)
    await first.start()
    group = Group(first, clock, sender)
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对 截止 30分钟")
    await group.say("张三", "/投 1")
    await first.stop()

    second = bot(ready_database_url, clock, sender, fire=False)
    await second.start()
    try:
        assert second.scheduler.job_ids() == ["poll-close-1"]
        clock.advance(timedelta(minutes=31))
        posted = await second.scheduler.run_due(clock.now())
        assert len(posted) == 1
        assert posted[0].startswith("投票 #1 结果")
        assert second.scheduler.job_ids() == []
    finally:
        await second.stop()


async def test_a_lost_job_is_rearmed_at_start(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> None:
    first = bot(ready_database_url, clock, sender, fire=False)
    await first.start()
    group = Group(first, clock, sender)
    await group.say(MODERATOR, "/协商 开始 夜市")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对 截止 1小时")
    # As if the process died between the commit and putting the job on the scheduler.
    with first.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM apscheduler_jobs")
    await first.stop()

    second = bot(ready_database_url, clock, sender, fire=False)
    await second.start()
    try:
        # The poll's closing job, and the reminder of non-voters half an hour before it.
        assert second.scheduler.job_ids() == ["poll-nudge-1", "poll-close-1"]
    finally:
        await second.stop()


async def test_the_running_scheduler_closes_a_poll_on_time(
    sqlite_url: str, sender: RecordingSender
) -> None:
    app = bot(sqlite_url, SystemClock(), sender, fire=True)
    await app.start()
    try:
        group = Group(app, ManualClock(SystemClock().now()), sender)
        await group.say(MODERATOR, "/协商 开始 夜市", at=SystemClock().now())
        await group.say(MODERATOR, "/投票 延长？| 是 | 否 截止 1秒", at=SystemClock().now())

        await sender.wait_for("投票 #1 结果")

        assert group.count("poll", "status = 'closed'") == 1
    finally:
        await app.stop()


jobs = Router("test-jobs")


@jobs.job("test.remind-again")
async def remind_again(ctx: Context, left: int) -> None:
    """A job that posts and, while `left` is positive, schedules itself again an hour on."""
    ctx.use_group(1)
    ctx.post(f"提醒，还剩 {left} 次")
    if left > 0:
        ctx.schedule(
            "reminder", remind_again, run_at=ctx.now + timedelta(hours=1), args=(left - 1,)
        )


async def test_a_job_that_schedules_itself_again_keeps_its_next_time(
    group: Group, clock: ManualClock
) -> None:
    group.app.dispatcher.commands = CommandTable([*ROUTERS, jobs])
    await group.say(MODERATOR, "/协商 开始 夜市")  # creates the group the job posts to
    first = clock.now() + timedelta(hours=1)
    group.app.scheduler.add(ScheduledJob("reminder", "test.remind-again", first, (2,)))

    posted = []
    for _ in range(4):
        posted += await group.app.scheduler.run_due(clock.advance(timedelta(hours=1)))

    assert posted == ["提醒，还剩 2 次", "提醒，还剩 1 次", "提醒，还剩 0 次"]
    assert group.app.scheduler.job_ids() == []


BEFORE_ROOMS = Path(__file__).parents[2] / "storage" / "data" / "before-rooms.sql"


async def test_jobs_stored_before_the_rooms_still_fire(
    tmp_path: Path, clock: ManualClock, sender: RecordingSender
) -> None:
    # A database made by the code of stop 15 (tests/storage/data/before-rooms.sql): a poll
    # closing at 09:30 and a referral's first reminder, stored under import paths that the
    # code no longer has. The upgrade names them; then they fire.
    database = tmp_path / "before.db"
    with sqlite3.connect(database) as connection:
        connection.executescript(BEFORE_ROOMS.read_text(encoding="utf-8"))
    engine = make_engine(f"sqlite:///{database}")
    upgrade_database(engine)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT job_state FROM apscheduler_jobs").all()
    engine.dispose()
    states = [pickle.loads(blob) for (blob,) in stored]
    assert sorted((state["func"], state["args"][0]) for state in states) == [
        ("bot.runtime.scheduler:run_scheduled", "poll.close"),
        ("bot.runtime.scheduler:run_scheduled", "referral.remind"),
    ]

    app = bot(f"sqlite:///{database}", clock, sender, fire=False)
    await app.start()
    try:
        posted = await app.scheduler.run_due(clock.advance(timedelta(minutes=31)))
        assert posted[0].startswith("投票 #1 结果")
        posted = await app.scheduler.run_due(clock.advance(timedelta(days=23)))
        assert any("市民政局" in text and "报送 #1" in text for text in posted)
    finally:
        await app.stop()

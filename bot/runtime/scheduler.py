"""Scheduled jobs on APScheduler, kept in the database so they survive a restart.

Each job runs like a message (`Dispatcher.run_job`): one transaction, replies through the
outbox. The scheduler always starts paused; the process that should fire jobs resumes it,
so a process can add jobs without firing them, and tests fire due jobs at an injected time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import Engine

from bot.core.context import ScheduledJob
from bot.core.dispatcher import Dispatcher

log = logging.getLogger(__name__)

# APScheduler stores a job as an importable function and its arguments: every job is stored
# as `run_scheduled` (whose import path must therefore stay, or a migration move it, as
# 0009 did) with the job's registered name first. The function finds the dispatcher of this
# process here, set by Scheduler.start.
_dispatcher: Dispatcher | None = None


async def run_scheduled(name: str, *args: Any) -> None:
    """The function every stored job calls: run the job registered as `name`."""
    if _dispatcher is None:
        raise RuntimeError("scheduler job ran before the bot started")
    await _dispatcher.run_job(name, *args)


class Scheduler:
    """APScheduler with a database job store."""

    def __init__(self, engine: Engine, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._store = SQLAlchemyJobStore(engine=engine)
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": self._store},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self._looking: asyncio.Task[None] | None = None

    def start(self, *, fire: bool) -> None:
        """Start the scheduler (in this event loop); `fire` lets this process run jobs."""
        global _dispatcher
        _dispatcher = self.dispatcher
        self._scheduler.start(paused=True)
        if fire:
            self._scheduler.resume()

    def lead(self, *, look_every: float) -> None:
        """Fire jobs from now on, looking at the store every `look_every` seconds too: a job
        another process added wakes only that process's scheduler, not this one."""
        self._scheduler.resume()
        if self._looking is None or self._looking.done():
            self._looking = asyncio.get_running_loop().create_task(self._look(look_every))

    def follow(self) -> None:
        """Stop firing jobs (another process fires them); jobs may still be added."""
        if self._looking is not None:
            self._looking.cancel()
            self._looking = None
        if self._scheduler.running:
            self._scheduler.pause()

    @property
    def firing(self) -> bool:
        """Whether this process fires jobs now."""
        return bool(self._scheduler.state == STATE_RUNNING)

    async def _look(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self._scheduler.wakeup()

    def add(self, job: ScheduledJob) -> None:
        """Put a job on the store (replacing one with the same id); safe from any thread."""
        self._scheduler.add_job(
            run_scheduled,
            trigger="date",
            run_date=job.run_at,
            args=(job.name, *job.args),
            id=job.job_id,
            replace_existing=True,
        )

    def job_ids(self) -> list[str]:
        """Ids of the stored jobs."""
        return [job.id for job in self._scheduler.get_jobs()]

    async def run_due(self, now: datetime) -> list[str]:
        """Fire every job due at `now` (an injected time); returns the replies they queued."""
        replies: list[str] = []
        for job in self._store.get_due_jobs(now):
            # As APScheduler does: move the job on (or remove it) before it runs, so a job
            # that schedules itself again under its own id keeps its new time.
            following = job.trigger.get_next_fire_time(job.next_run_time, now)
            if following is None:
                self._scheduler.remove_job(job.id)
            else:
                self._scheduler.modify_job(job.id, next_run_time=following)
            name, *args = job.args
            replies.extend(await self.dispatcher.run_job(name, *args))
        return replies

    def shutdown(self) -> None:
        """Stop firing jobs; stored jobs stay for the next start."""
        global _dispatcher
        if self._looking is not None:
            self._looking.cancel()
            self._looking = None
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if _dispatcher is self.dispatcher:
            _dispatcher = None

    @staticmethod
    def _on_error(event: JobExecutionEvent) -> None:
        log.error("scheduled job %s failed", event.job_id, exc_info=event.exception)

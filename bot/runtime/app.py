"""The wiring: everything `xieshang run` starts, in one place (the only importer of handlers)."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import suppress

from aiohttp import web
from sqlalchemy import text

from bot.adapters import Adapter, AdapterFactory, dingtalk, local, wecom
from bot.core.clock import Clock, SystemClock
from bot.core.dispatcher import Dispatcher
from bot.core.metrics import Metrics
from bot.core.router import CommandTable
from bot.core.settings import Settings
from bot.delivery.cards import CardIds, CardViews
from bot.delivery.channels import LocalChannels, SharedChannels
from bot.delivery.files import Files
from bot.delivery.history import ChatHistory
from bot.delivery.link import PlatformLink
from bot.delivery.outbox import OutboxSender
from bot.runtime import metrics
from bot.runtime.leader import Leadership
from bot.runtime.scheduler import Scheduler
from bot.runtime.secrets import ballot_secret
from bot.web.console import Console
from handlers import ROUTERS
from storage.database import Database
from storage.engine import is_sqlite, make_engine, upgrade_database
from workers.minutes_worker import MinutesWorker

log = logging.getLogger(__name__)


# Every platform the bot speaks: each line makes one platform's adapter when configured
# (the local chat last: it stays off beside a real platform unless config turns it on).
PLATFORMS: tuple[AdapterFactory, ...] = (
    dingtalk.from_settings,
    wecom.from_settings,
    local.from_settings,
)


class App:
    """The bot: database, dispatcher, outbox, scheduler, web server and platform adapters."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        adapters: list[Adapter] | None = None,
        secret: bytes | None = None,
        fire_jobs: bool = True,
        serve_web: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        lanes = settings.database.lanes
        self.engine = make_engine(
            settings.database.url,
            sqlite_synchronous=settings.database.sqlite_synchronous,
            # PostgreSQL: a connection per database thread and per conversation being sent
            # to, one for the scheduler's election, and one for /healthz and the CLI.
            pool_size=lanes + settings.outbox.concurrent_sends + 2,
        )
        # SQLite: everything on one thread, since a second writer would only wait for the
        # lock in sleeps. PostgreSQL: a thread per lane. The outbox's work shares them, in
        # deadline order behind the batches: on a thread of its own it ran beside them,
        # took the interpreter lock in waves of card refreshes and doubled the p99 of
        # receipt to commit (docs/benchmarks.md, stop 14).
        self.database = Database(self.engine, workers=1 if is_sqlite(self.engine) else lanes)
        self.commands = CommandTable(ROUTERS)
        self.metrics = Metrics()
        self.dispatcher = Dispatcher(
            metrics=self.metrics,
            lanes=lanes,
            database=self.database,
            commands=self.commands,
            settings=settings,
            clock=self.clock,
            ballot_secret=secret
            or ballot_secret(
                settings.security.ballot_secret_file, allow_generated=is_sqlite(self.engine)
            ),
        )
        self.web = web.Application()
        self.adapters: dict[str, Adapter] = {}
        if adapters is None:
            adapters = self._configured_adapters()
        for adapter in adapters:
            self.adapters[adapter.platform] = adapter
            # Adapters that take HTTP (the local chat, WeCom's callback mode) add routes.
            install = getattr(adapter, "install", None)
            if callable(install):
                install(self.web)
        self.outbox = OutboxSender(
            database=self.database,
            adapters=self.adapters,
            settings=settings,
            clock=self.clock,
            metrics=self.metrics,
            channels=(
                LocalChannels(self.database, settings)
                if is_sqlite(self.engine)
                else SharedChannels(self.database, settings)
            ),
        )
        metrics.install(self.web, self.metrics, self.health)
        self.console: Console | None = None
        if serve_web and settings.console.enabled:
            # Its own read-only engine: pages and exports never take the writer's lock.
            self.console = Console(
                settings,
                engine=make_engine(settings.database.url, read_only=True),
                clock=self.clock,
                writer=self.database,
                local_chat="local" in self.adapters,
            )
            self.console.install(self.web)
        self.cards = CardViews(
            database=self.database, viewers=self.commands.card_views, settings=settings
        )
        self.outbox.cards = self.cards
        # What every adapter is given: the way in, and delivery's card and file services.
        self.link = PlatformLink(
            dispatch=self.dispatcher.dispatch,
            views=self.cards,
            card_ids=lambda platform: CardIds(
                database=self.database, clock=self.clock, platform=platform
            ),
            history=lambda platform: ChatHistory(database=self.database, platform=platform),
            files=lambda platform: Files(
                database=self.database, clock=self.clock, platform=platform
            ),
        )
        self.scheduler = Scheduler(self.engine, self.dispatcher)
        self.dispatcher.schedule_job = self.scheduler.add
        self.dispatcher.committed_listeners.append(self.outbox.wake)
        # Minutes and statement vectors are built beside the message path, never on it.
        self.minutes = MinutesWorker(
            database=self.database,
            settings=settings,
            clock=self.clock,
            on_queued=self.outbox.wake,
            load=self.dispatcher.recent.messages,
        )
        self.dispatcher.committed_listeners.append(self.minutes.wake)
        self.fire_jobs = fire_jobs
        self.serve_web = serve_web
        self.web_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._outbox_task: asyncio.Task[None] | None = None
        self._campaign: asyncio.Task[None] | None = None
        self.leadership: Leadership | None = None
        if fire_jobs and not is_sqlite(self.engine):
            # Several processes may share PostgreSQL: the one holding the lock fires jobs.
            self.leadership = Leadership(
                self.engine,
                on_elected=self._elected,
                on_deposed=self.scheduler.follow,
                retry_seconds=settings.scheduler.election_seconds,
            )
        self._minutes_task: asyncio.Task[None] | None = None

    def _configured_adapters(self) -> list[Adapter]:
        adapters: list[Adapter] = []
        for make in PLATFORMS:
            adapter = make(self.settings, self.clock, adapters)
            if adapter is not None:
                adapters.append(adapter)
        return adapters

    async def health(self) -> dict[str, object]:
        """What /healthz reports: the database answers and the outbox sender is running."""
        await self.database.run(lambda session: session.execute(text("SELECT 1")))
        sending = self._outbox_task is not None and not self._outbox_task.done()
        return {
            "status": "ok" if sending else "degraded",
            "database": "ok",
            "outbox_sender": "running" if sending else "stopped",
            "scheduler": "leader" if self.scheduler.firing else "follower",
            "platforms": sorted(self.adapters),
        }

    async def start(self) -> None:
        """Upgrade the database, then start jobs, the web server, adapters and the outbox."""
        await self.database.call(
            lambda: upgrade_database(self.engine, timezone=self.settings.timezone)
        )
        self.scheduler.start(fire=self.fire_jobs and self.leadership is None)
        await self._run_startup_jobs()
        if self.leadership is not None:
            self._campaign = asyncio.create_task(self.leadership.run())
        if self.serve_web:
            self._runner = web.AppRunner(self.web, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.settings.web.host, self.settings.web.port)
            await site.start()
            self.web_port = self._runner.addresses[0][1]
        for adapter in self.adapters.values():
            await adapter.start(self.link)
        self._outbox_task = asyncio.create_task(self.outbox.run())
        self._minutes_task = asyncio.create_task(self.minutes.run())

    async def _run_startup_jobs(self) -> None:
        for job in self.commands.startup:
            await self.dispatcher.run_job(job)

    async def _elected(self) -> None:
        """This process now fires jobs: look at the store often, and re-arm what a leader
        that died may have taken off the store without finishing (the jobs are idempotent)."""
        self.scheduler.lead(look_every=self.settings.scheduler.look_seconds)
        await self._run_startup_jobs()

    async def stop(self) -> None:
        """Stop taking messages, finish sends under way, and close the database."""
        for adapter in self.adapters.values():
            with suppress(Exception):
                await adapter.stop()
        if self._minutes_task is not None:
            self._minutes_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._minutes_task
        await self.outbox.stop()
        if self._outbox_task is not None:
            self._outbox_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._outbox_task
        if self._campaign is not None:
            self._campaign.cancel()
            with suppress(asyncio.CancelledError):
                await self._campaign
        self.scheduler.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.console is not None:
            self.console.close()
        self.database.close()


def settle_heap() -> None:
    """Call once the process is up: everything loaded at start-up (modules, models, the
    command table) lives as long as the process, so move it out of the collector's
    sight. A full collection then walks only what came since: in bench/ingest.py its
    pauses fell from about 90 ms, which held up every message behind them, to 3–11 ms.
    Only for the process's own entry points: tests start many apps in one process."""
    gc.collect()
    gc.freeze()

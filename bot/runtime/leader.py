"""Which process fires scheduled jobs: the holder of a PostgreSQL advisory lock.

Several `xieshang run` processes share one PostgreSQL database, and every one of them may
add jobs to the shared job store; only one may fire them, or a poll deadline would close a
poll twice. PostgreSQL elects it: the process holding the session-level advisory lock below
on a connection of its own is the leader. When it dies, the server ends its session, frees
the lock, and a follower that tries again every few seconds takes over. A leader that loses
its connection steps down at once, since the server may already have freed its lock.

On SQLite there is one process, and it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

# Advisory locks are per database, but deployments may share a database in separate
# schemas: the lock is named after the schema, hashed by the server to the bigint it takes.
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(hashtextextended(:name || current_schema(), 0))")
SCHEDULER_LOCK = "xieshang-scheduler:"


class Leadership:
    """Tries for the lock every `retry_seconds` while a follower, and checks it is still
    connected as often while the leader."""

    def __init__(
        self,
        engine: Engine,
        *,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], None],
        retry_seconds: float = 2.0,
        lock_name: str = SCHEDULER_LOCK,
    ) -> None:
        self._engine = engine
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._retry = retry_seconds
        self._lock_name = lock_name
        self._connection: Connection | None = None
        self.leading = False
        # Elected, but the jobs' re-arming has not succeeded yet.
        self._rearm_pending = False

    async def run(self) -> None:
        """Campaign until cancelled; leads whenever the lock is ours."""
        try:
            while True:
                await self.try_once()
                await asyncio.sleep(self._retry)
        finally:
            await self.stop_campaign()

    async def stop_campaign(self) -> None:
        """Step down if leading and let the lock go (the process is stopping)."""
        self._step_down()
        await asyncio.to_thread(self._close)

    async def try_once(self) -> None:
        """One round: try for the lock as a follower, or check the connection as the leader."""
        if self.leading:
            if not await asyncio.to_thread(self._still_connected):
                log.warning("scheduler leadership lost with the database connection")
                self._step_down()
            elif self._rearm_pending:
                await self._rearm()
            return
        try:
            won = await asyncio.to_thread(self._try_lock)
        except sa.exc.SQLAlchemyError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning("cannot reach the database to elect the scheduler: %s", reason)
            await asyncio.to_thread(self._close)
            return
        if won:
            log.info("this process now fires scheduled jobs")
            self.leading = True
            self._rearm_pending = True
            await self._rearm()

    async def _rearm(self) -> None:
        try:
            await self._on_elected()
        except Exception:
            # Still the leader: the scheduler runs; the re-arming is tried again next round.
            log.exception("re-arming scheduled jobs after the election failed")
        else:
            self._rearm_pending = False

    def _try_lock(self) -> bool:
        if self._connection is None:
            # Autocommit: a session-level lock, and no transaction left open on the server.
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        return bool(self._connection.execute(_TRY_LOCK, {"name": self._lock_name}).scalar())

    def _still_connected(self) -> bool:
        try:
            assert self._connection is not None
            self._connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            self._close()
            return False
        return True

    def _step_down(self) -> None:
        if self.leading:
            self.leading = False
            self._on_deposed()

    def _close(self) -> None:
        # Closing the connection ends the session, which frees the lock on the server.
        if self._connection is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._connection.invalidate()
                self._connection.close()
            self._connection = None

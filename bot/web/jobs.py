"""Long exports (a year of statistics) as background jobs with progress.

The work runs on a thread of its own with its own database sessions on the console's
read-only engine: the event loop keeps serving the groups and the pages, and the
dispatcher's database thread is never borrowed, so the bot answers meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], bytes]
KEEP = 50


@dataclass(slots=True)
class Job:
    """One export: who asked, how far it got, and the file once done."""

    id: str
    owner: str
    title: str
    filename: str
    content_type: str
    done: int = 0
    total: int = 1
    step: str = "排队中"
    state: Literal["running", "done", "failed"] = "running"
    error: str = ""
    result: bytes | None = None
    created: float = field(default_factory=time.monotonic)

    @property
    def percent(self) -> int:
        """How far the job got, 0 to 100."""
        if self.state == "done":
            return 100
        return min(99, round(100 * self.done / max(self.total, 1)))

    def to_json(self, download_url: str) -> dict[str, Any]:
        """What the progress page polls."""
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "percent": self.percent,
            "step": self.step,
            "error": self.error,
            "download": download_url if self.state == "done" else None,
        }


class Jobs:
    """Runs exports one after another on their own thread and remembers the latest ones."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    def start(self, *, owner: str, title: str, filename: str, content_type: str, work: Work) -> Job:
        """Queue `work`; it reports progress through the callable it is given."""
        job = Job(secrets.token_urlsafe(12), owner, title, filename, content_type)
        self._forget_old()
        self._jobs[job.id] = job
        future = asyncio.get_running_loop().run_in_executor(self._executor, _run, job, work)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str, *, owner: str) -> Job | None:
        """The job if it exists and belongs to `owner` (nobody sees another's exports)."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def __len__(self) -> int:
        """How many exports are remembered (running or finished)."""
        return len(self._jobs)

    async def wait(self) -> None:
        """Wait for the jobs under way (for tests and shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def close(self) -> None:
        """Drop queued jobs; a running one finishes on its thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in sorted(finished, key=lambda j: j.created)[: max(0, len(finished) - KEEP)]:
            del self._jobs[job.id]


def _run(job: Job, work: Work) -> None:
    def progress(done: int, total: int, step: str) -> None:
        job.done, job.total, job.step = done, total, step

    try:
        job.result = work(progress)
        job.step = "完成"
        job.state = "done"
    except Exception:
        log.exception("export %s failed", job.title)
        job.error = "导出失败，请稍后重试；问题已记录。"
        job.state = "failed"

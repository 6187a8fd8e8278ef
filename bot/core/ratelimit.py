"""Per-conversation send limits as the platforms count them: N in any window.

Written here rather than taken from aiolimiter: a leaky bucket admits a full burst and then
keeps leaking, so it can put 21 messages into one minute where DingTalk allows 20; the
platforms count a sliding window, and tests and replays need the injectable clock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` sends in any `span`."""

    limit: int
    span: timedelta


class SlidingWindowLimiter:
    """Remembers recent sends per key; a send is allowed when every window has room."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = windows
        self._longest = max(w.span for w in windows)
        self._limit = max(w.limit for w in windows)
        self._sent: dict[Hashable, deque[datetime]] = {}

    def wait(self, key: Hashable, now: datetime) -> float:
        """Seconds until a send for `key` would be allowed (0 if it may go now)."""
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        while sent and now - sent[0] >= self._longest:
            sent.popleft()
        longest_wait = 0.0
        for window in self.windows:
            recent = [t for t in sent if now - t < window.span]
            if len(recent) >= window.limit:
                # The oldest send that still counts must leave the window first.
                oldest = recent[len(recent) - window.limit]
                longest_wait = max(longest_wait, (oldest + window.span - now).total_seconds())
        return longest_wait

    def history(self, key: Hashable) -> list[datetime]:
        """The sends still remembered for `key`, oldest first (to store elsewhere)."""
        return list(self._sent.get(key, ()))

    def restore(self, key: Hashable, sends: list[datetime]) -> None:
        """Take up the sends remembered elsewhere for `key` (another process's)."""
        self._sent[key] = deque(sorted(sends)[-self._limit :])

    def record(self, key: Hashable, now: datetime) -> None:
        """Count a send for `key` at `now`."""
        sent = self._sent.setdefault(key, deque())
        sent.append(now)
        # Beyond the largest limit, older entries can never decide a wait.
        while len(sent) > self._limit:
            sent.popleft()


class Flood(Enum):
    """What to do with a member's message, given how many they sent lately."""

    OK = "ok"
    # Over the budget: answer once that they are sending too fast...
    WARN = "warn"
    # ...and then say nothing until the window has room again.
    QUIET = "quiet"


class FloodGuard:
    """At most `per_minute` messages to the bot per member per group; one warning each time.

    Kept in memory: several processes each keep their own count, which only makes the
    limit a little looser, never lose a message (the excess is recorded, not handled).
    """

    def __init__(self, per_minute: int) -> None:
        self._limiter = SlidingWindowLimiter([Window(per_minute, timedelta(minutes=1))])
        self._warned: dict[Hashable, datetime] = {}
        # Batches may run on more than one database thread (PostgreSQL).
        self._lock = threading.Lock()

    def check(self, key: Hashable, now: datetime) -> Flood:
        """Count a message from `key` at `now` and say whether to handle it."""
        with self._lock:
            if self._limiter.wait(key, now) == 0:
                self._limiter.record(key, now)
                return Flood.OK
            warned = self._warned.get(key)
            if warned is not None and now - warned < timedelta(minutes=1):
                return Flood.QUIET
            self._warned[key] = now
            return Flood.WARN

"""The console fixture shared by the console's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import ManualClock
from tests.bot.web.support import Console, console_settings, serving, users_in_environment
from tests.support import RecordingSender


@pytest.fixture
async def console(
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Console]:
    """The bot with its web server on a free port and two console users from config."""
    users_in_environment(monkeypatch)
    async with serving(console_settings(ready_database_url), clock, sender) as served:
        yield served

"""Which platforms `xieshang run` starts: the local chat is for one's own machine, and stays
off (or loses its self-chosen roles) once a real platform is connected."""

from __future__ import annotations

import pytest

from bot.adapters.local.adapter import LocalAdapter
from bot.core.clock import ManualClock
from bot.core.settings import LocalSettings, PlatformSettings
from bot.runtime.app import App
from tests.conftest import make_settings

PLATFORM_VARIABLES = (
    "DINGTALK_CLIENT_ID",
    "DINGTALK_CLIENT_SECRET",
    "WECOM_BOT_ID",
    "WECOM_BOT_SECRET",
    "WECOM_TOKEN",
    "WECOM_ENCODING_AES_KEY",
)


@pytest.fixture(autouse=True)
def no_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def dingtalk_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DINGTALK_CLIENT_ID", "ding-client")
    monkeypatch.setenv("DINGTALK_CLIENT_SECRET", "ding-secret-value")


def wired(sqlite_url: str, clock: ManualClock, **local: object) -> App:
    platforms = PlatformSettings(local=LocalSettings.model_validate(local))
    return App(make_settings(sqlite_url, platforms=platforms), clock=clock, secret=b"k")


def close(app: App) -> None:
    """Release what a bot that was built but never started holds."""
    if app.console is not None:
        app.console.close()
    app.database.close()


def routes(app: App) -> set[str]:
    return {route.resource.canonical for route in app.web.router.routes() if route.resource}


def test_without_credentials_the_local_chat_runs_and_tabs_choose_roles(
    sqlite_url: str, clock: ManualClock
) -> None:
    app = wired(sqlite_url, clock)
    try:
        chat = app.adapters["local"]
        assert isinstance(chat, LocalAdapter)
        assert chat.trust_roles
        assert "/api/local/messages" in routes(app)
    finally:
        close(app)


def test_with_dingtalk_credentials_the_local_chat_is_off(
    sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dingtalk_connected(monkeypatch)

    app = wired(sqlite_url, clock)
    try:
        assert sorted(app.adapters) == ["dingtalk"]
        assert "/api/local/messages" not in routes(app)
        assert "/chat" not in routes(app)
    finally:
        close(app)


def test_turned_on_beside_dingtalk_the_local_chat_lets_no_tab_choose_its_role(
    sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dingtalk_connected(monkeypatch)

    app = wired(sqlite_url, clock, enabled=True, trust_roles=True)
    try:
        chat = app.adapters["local"]
        assert isinstance(chat, LocalAdapter)
        assert not chat.trust_roles
        assert sorted(app.adapters) == ["dingtalk", "local"]
    finally:
        close(app)


def test_turned_off_without_credentials_there_is_no_chat(
    sqlite_url: str, clock: ManualClock
) -> None:
    app = wired(sqlite_url, clock, enabled=False)
    try:
        assert "local" not in app.adapters
    finally:
        close(app)

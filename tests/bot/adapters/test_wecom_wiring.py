"""Which WeCom mode starts follows the credentials in the environment; secrets stay hidden."""

from __future__ import annotations

import pytest

from bot.adapters.wecom.adapter import WeComCallback, WeComLongConnection, wecom_from_environment
from bot.core.clock import ManualClock
from bot.core.settings import PlatformSettings, WeComSettings
from bot.runtime.app import App
from tests.conftest import make_settings
from tests.fakes.wecom_callback import AES_KEY

CREDENTIALS = ("WECOM_BOT_ID", "WECOM_BOT_SECRET", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


def test_without_credentials_there_is_no_wecom_adapter(clock: ManualClock) -> None:
    settings = make_settings("sqlite://")

    assert wecom_from_environment(settings.platforms.wecom, clock=clock, zone=settings.zone) is None


def test_the_long_connection_is_preferred_when_both_are_configured(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    for name, value in zip(CREDENTIALS, ["bot1", "s3cret-value", "tok", AES_KEY], strict=True):
        monkeypatch.setenv(name, value)
    settings = make_settings("sqlite://")

    adapter = wecom_from_environment(settings.platforms.wecom, clock=clock, zone=settings.zone)

    assert isinstance(adapter, WeComLongConnection)
    assert "s3cret-value" not in repr(adapter)


def test_callback_mode_puts_its_endpoint_on_the_web_server(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock, sqlite_url: str
) -> None:
    monkeypatch.setenv("WECOM_TOKEN", "tok")
    monkeypatch.setenv("WECOM_ENCODING_AES_KEY", AES_KEY)
    settings = make_settings(
        sqlite_url, platforms=PlatformSettings(wecom=WeComSettings(callback_path="/hooks/wecom"))
    )

    app = App(settings, clock=clock, secret=b"k", fire_jobs=False, serve_web=False)

    assert isinstance(app.adapters["wecom"], WeComCallback)
    assert "/hooks/wecom" in {r.resource.canonical for r in app.web.router.routes() if r.resource}
    assert AES_KEY not in repr(app.adapters["wecom"])
    app.database.close()


def test_a_forced_mode_without_its_credentials_says_which_are_missing(
    clock: ManualClock,
) -> None:
    settings = make_settings(
        "sqlite://", platforms=PlatformSettings(wecom=WeComSettings(mode="callback"))
    )

    with pytest.raises(RuntimeError, match="WECOM_TOKEN and WECOM_ENCODING_AES_KEY"):
        wecom_from_environment(settings.platforms.wecom, clock=clock, zone=settings.zone)

"""The console refuses what another site, a copied cookie or a stranger's guesses would do:
a foreign Origin or Host, a body that is not a form, a session signed out, too many wrong
tokens from one visitor, and malformed input (400, never a traceback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from yarl import URL

from bot.core.clock import ManualClock
from bot.core.settings import WebSettings
from bot.web.auth import Boundary
from storage.console_users import ConsoleRole, save_console_user
from tests.bot.web.support import (
    LEADER_TOKEN,
    SECRETARY_TOKEN,
    Console,
    browser,
    console_settings,
    csrf_of,
    hold_consultation,
    serving,
    sign_in,
    users_in_environment,
)
from tests.support import RecordingSender

EVIL = "http://evil.example"
PUBLIC = "https://xieshang.example.gov.cn"


async def signed_in(console: Console) -> tuple[aiohttp.ClientSession, str]:
    """A browser signed in as the secretary, and the CSRF token of its forms."""
    session = browser()
    await sign_in(session, console.base, SECRETARY_TOKEN)
    return session, await csrf_of(session, f"{console.base}/console/stats")


async def add_user(console: Console) -> None:
    await console.app.database.run(
        lambda s: save_console_user(
            s,
            name="赵秘书",
            role=ConsoleRole.SECRETARY,
            token="zhao-token-0123456789",
            now=console.group.clock.now(),
        )
    )


def state(console: Console) -> tuple[int, int, int]:
    """What a refused request must leave as it was: sessions, users, exports."""
    assert console.app.console is not None
    return (
        console.group.count("console_session"),
        console.group.count("console_user"),
        len(console.app.console.jobs),
    )


# Every route that changes something, with the form it takes.
CHANGES = [
    ("login", {"token": SECRETARY_TOKEN, "next": "/console/"}),
    ("logout", {}),
    ("exports/statistics", {"year": "2026"}),
    ("users/1/remove", {}),
]


@pytest.mark.parametrize(("route", "form"), CHANGES)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # a sandboxed frame or a file on disk
        {"Referer": f"{EVIL}/trap.html"},
    ],
    ids=["origin", "null-origin", "referer"],
)
async def test_a_form_from_another_site_is_refused_and_changes_nothing(
    console: Console, route: str, form: dict[str, str], headers: dict[str, str]
) -> None:
    await add_user(console)
    session, csrf = await signed_in(console)
    before = state(console)
    async with session:
        refused = await session.post(
            f"{console.base}/console/{route}",
            data={"csrf_token": csrf, **form},
            headers=headers,
            allow_redirects=False,
        )
        text = await refused.text()
        still_in = await session.get(f"{console.base}/console/", allow_redirects=False)

    assert (refused.status, text) == (403, "拒绝访问：这个请求来自其他网站，不能在秘书工作台执行。")
    assert state(console) == before
    assert still_in.status == 200


@pytest.mark.parametrize(("route", "form"), CHANGES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data"])
async def test_a_body_that_is_not_a_form_is_refused_and_changes_nothing(
    console: Console, route: str, form: dict[str, str], content_type: str
) -> None:
    await add_user(console)
    session, csrf = await signed_in(console)
    before = state(console)
    body = "&".join(f"{k}={v}" for k, v in {"csrf_token": csrf, **form}.items())
    async with session:
        refused = await session.post(
            f"{console.base}/console/{route}",
            data=body.encode(),
            headers={"Content-Type": content_type, "Origin": console.base},
            allow_redirects=False,
        )
        text = await refused.text()

    assert (refused.status, text) == (415, "请求格式不对：请在秘书工作台的页面上提交表单。")
    assert state(console) == before


async def test_a_page_under_a_foreign_host_name_is_refused(console: Console) -> None:
    # DNS rebinding: evil.example made to point at 127.0.0.1 is "same-origin" to itself.
    port = URL(console.base).port
    foreign = {"Host": f"evil.example:{port}", "Origin": f"{EVIL}:{port}"}
    before = state(console)
    async with browser() as session:
        page = await session.get(f"{console.base}/console/login", headers=foreign)
        login = await session.post(
            f"{console.base}/console/login",
            data={"token": SECRETARY_TOKEN},
            headers=foreign,
            allow_redirects=False,
        )
        answers = [(page.status, await page.text()), (login.status, await login.text())]

    assert all(status == 403 for status, _ in answers)
    assert all("不是协商助手的地址" in text for _, text in answers)
    assert state(console) == before


async def test_a_configured_public_origin_signs_in_behind_its_proxy(
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users_in_environment(monkeypatch)
    settings = console_settings(
        ready_database_url, web=WebSettings(port=0, public_origins=[PUBLIC])
    )
    proxied = {"Host": "xieshang.example.gov.cn"}
    async with serving(settings, clock, sender) as console, browser() as session:
        csrf = await csrf_of_with(session, f"{console.base}/console/login", proxied)
        signed = await session.post(
            f"{console.base}/console/login",
            data={"csrf_token": csrf, "token": SECRETARY_TOKEN, "next": "/console/"},
            headers={**proxied, "Origin": PUBLIC},
            allow_redirects=False,
        )
        async with browser() as other:
            over_https = await other.get(
                f"{console.base}/console/login",
                headers={**proxied, "X-Forwarded-Proto": "https"},
            )

    assert signed.status == 303
    # HTTPS, as said by the proxy on this machine: the cookie is Secure.
    assert "Secure" in over_https.headers["Set-Cookie"]


async def csrf_of_with(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> str:
    async with session.get(url, headers=headers) as response:
        page = await response.text()
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def test_signing_out_ends_the_session_for_a_copied_cookie_too(console: Console) -> None:
    session, csrf = await signed_in(console)
    copy = browser()
    copy.cookie_jar.update_cookies(
        session.cookie_jar.filter_cookies(URL(console.base + "/console/"))
    )
    async with session, copy:
        before = await copy.get(f"{console.base}/console/", allow_redirects=False)
        stored_while_in = console.group.count("console_session")
        out = await session.post(
            f"{console.base}/console/logout", data={"csrf_token": csrf}, allow_redirects=False
        )
        after = await copy.get(f"{console.base}/console/", allow_redirects=False)
        download = await copy.get(f"{console.base}/console/consultations/1/opinions.csv")

    assert before.status == 200
    assert stored_while_in == 1
    assert out.status == 303
    assert after.status == 303
    assert after.headers["Location"].startswith("/console/login")
    assert download.status == 401
    assert console.group.count("console_session") == 0


async def test_a_session_ends_when_its_hours_are_over(console: Console, clock: ManualClock) -> None:
    session, _ = await signed_in(console)
    async with session:
        clock.advance(timedelta(hours=console.app.settings.console.session_hours))
        after = await session.get(f"{console.base}/console/", allow_redirects=False)

    assert after.status == 303


@pytest.fixture
async def behind_proxy(
    ready_database_url: str,
    clock: ManualClock,
    sender: RecordingSender,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Console]:
    """The console behind nginx on this machine, which it trusts to name the visitor."""
    users_in_environment(monkeypatch)
    settings = console_settings(
        ready_database_url, web=WebSettings(port=0, trusted_proxies=["127.0.0.1"])
    )
    async with serving(settings, clock, sender) as console:
        yield console


async def attempt(console: Console, token: str, *, visitor: str | None) -> int:
    """One sign-in from a fresh browser, through the proxy as `visitor` (if given)."""
    headers = {"X-Forwarded-For": f"{visitor}, 127.0.0.1"} if visitor else {}
    async with browser() as session:
        csrf = await csrf_of_with(session, f"{console.base}/console/login", headers)
        response = await session.post(
            f"{console.base}/console/login",
            data={"csrf_token": csrf, "token": token},
            headers=headers,
            allow_redirects=False,
        )
        return response.status


async def test_behind_a_trusted_proxy_one_visitors_failures_lock_out_only_that_visitor(
    behind_proxy: Console,
) -> None:
    guesses = [await attempt(behind_proxy, f"guess-{n}", visitor="203.0.113.5") for n in range(4)]
    right_but_same_visitor = await attempt(behind_proxy, SECRETARY_TOKEN, visitor="203.0.113.5")
    colleague = await attempt(behind_proxy, LEADER_TOKEN, visitor="203.0.113.6")

    assert guesses == [401, 401, 401, 429]
    assert right_but_same_visitor == 429
    assert colleague == 303


async def test_one_wrong_token_sent_from_many_addresses_is_stopped(behind_proxy: Console) -> None:
    stale = [await attempt(behind_proxy, "old-token", visitor=f"198.51.100.{n}") for n in range(4)]
    another = await attempt(behind_proxy, SECRETARY_TOKEN, visitor="198.51.100.9")

    assert stale == [401, 401, 401, 429]
    assert another == 303


async def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(console: Console) -> None:
    guesses = [await attempt(console, f"guess-{n}", visitor=f"192.0.2.{n}") for n in range(4)]

    assert guesses == [401, 401, 401, 429]  # all counted under the real peer, 127.0.0.1


MALFORMED_QUERIES = [
    ("stats?year=²", "年份应写成 2026 这样的四位数，而不是 ²"),
    ("stats?year=" + "9" * 5000, "年份应写成 2026 这样的四位数"),
    ("consultations/1?member=²", "委员编号应为数字，而不是「²」。"),
    ("consultations/1?member=" + "1" * 5000, "委员编号应为数字"),
    ("consultations/1?theme=第一", "主题编号应为数字，而不是「第一」。"),
    (
        "consultations/1?kind=rumour",
        "类别应为 opinion、suggestion、remark 之一，而不是「rumour」。",
    ),
]


@pytest.mark.parametrize(("query", "expected"), MALFORMED_QUERIES)
async def test_a_malformed_query_gets_400_in_chinese(
    console: Console, query: str, expected: str
) -> None:
    await hold_consultation(console.group)
    session, _ = await signed_in(console)
    async with session, session.get(f"{console.base}/console/{query}") as response:
        answer = (response.status, await response.text())

    assert answer[0] == 400
    assert answer[1].startswith(expected)
    assert "Traceback" not in answer[1]


async def test_an_id_no_database_could_hold_is_simply_not_found(console: Console) -> None:
    session, _ = await signed_in(console)
    async with session:
        for path in ("consultations/" + "9" * 5000, "consultations/99999999999/opinions.xlsx"):
            async with session.get(f"{console.base}/console/{path}") as response:
                assert response.status == 404, path
                assert "Traceback" not in await response.text()


async def test_a_malformed_form_gets_400_and_changes_nothing(console: Console) -> None:
    session, csrf = await signed_in(console)
    before = state(console)
    async with session:
        answers = []
        for content_type, body in (
            (
                "application/x-www-form-urlencoded",
                b"csrf_token=" + csrf.encode() + b"&year=\xff\xfe",
            ),
            ("application/x-www-form-urlencoded; charset=klingon", b"year=2026"),
        ):
            async with session.post(
                f"{console.base}/console/exports/statistics",
                data=body,
                headers={"Content-Type": content_type},
                allow_redirects=False,
            ) as response:
                answers.append((response.status, await response.text()))
        async with session.post(
            f"{console.base}/console/exports/statistics",
            data={"csrf_token": csrf, "year": "²⁰²⁶"},
            allow_redirects=False,
        ) as response:
            answers.append((response.status, await response.text()))

    assert answers == [
        (400, "请求格式不对：表单内容无法读取。"),
        (400, "请求格式不对：表单内容无法读取。"),
        (400, "年份应写成 2026 这样的四位数。"),
    ]
    assert state(console) == before


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("xieshang.example.gov.cn", True),
        ("xieshang.example.gov.cn:443", True),  # a proxy that keeps the default port
        ("evil.example:8080", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
        ("127.0.0.1:99999", False),
    ],
)
def test_the_pages_answer_to_their_own_names_only(host: str, allowed: bool) -> None:
    boundary = Boundary(WebSettings(public_origins=[PUBLIC]))

    assert boundary.host_allowed(host) is allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", True),
        ("https://xieshang.example.gov.cn", "127.0.0.1:8080", True),  # proxy without Host
        ("https://xieshang.example.gov.cn", "xieshang.example.gov.cn:443", True),
        ("http://127.0.0.1:3000", "127.0.0.1:8080", False),  # another program on this machine
        ("http://evil.example:8080", "evil.example:8080", False),  # rebinding
        ("null", "127.0.0.1:8080", False),
        ("file://", "127.0.0.1:8080", False),
    ],
)
def test_forms_come_from_the_pages_own_origin_only(origin: str, host: str, allowed: bool) -> None:
    boundary = Boundary(WebSettings(public_origins=[PUBLIC]))

    assert boundary.origin_allowed(origin, host) is allowed

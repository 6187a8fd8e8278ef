"""The secretary console over HTTP: sign-in, refusals, pages, downloads and exports.

A consultation is held through the dispatcher (as in the group), then the secretary reads it
in the console; every check is what the browser receives or what the files hold.
"""

from __future__ import annotations

import csv
import io
import re
import threading

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session

from bot.core.clock import ManualClock
from bot.runtime.cli import main as cli_main
from bot.web.jobs import Progress
from storage.minutes import add_minutes_version
from tests.bot.web.support import (
    LEADER_TOKEN,
    SECRETARY_TOKEN,
    Console,
    browser,
    csrf_of,
    hold_consultation,
    sign_in,
)
from tests.support import MODERATOR, Group


async def test_a_signed_out_visitor_is_sent_to_sign_in_and_downloads_are_refused(
    console: Console,
) -> None:
    await hold_consultation(console.group)
    async with browser() as session:
        async with session.get(f"{console.base}/console/", allow_redirects=False) as page:
            location = page.headers["Location"]
        async with session.get(f"{console.base}/console/consultations/1/ballots.xlsx") as file:
            refusal = (file.status, await file.text())

    assert page.status == 303
    assert location.startswith("/console/login?next=")
    assert refusal == (401, "请先登录秘书工作台。")


async def test_a_wrong_token_answers_401_and_repeated_failures_429(console: Console) -> None:
    async with browser() as session:
        answers = []
        for _ in range(4):
            response = await sign_in(session, console.base, "not-a-token")
            answers.append((response.status, "令牌不对" in await response.text()))
        right_but_too_late = await sign_in(session, console.base, SECRETARY_TOKEN)
        text = await right_but_too_late.text()

    assert answers == [(401, True), (401, True), (401, True), (429, False)]
    assert right_but_too_late.status == 429
    assert "登录失败次数过多" in text
    assert int(right_but_too_late.headers["Retry-After"]) > 0


async def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    async with browser() as session:
        await session.get(f"{console.base}/console/login")
        login = await session.post(
            f"{console.base}/console/login", data={"token": SECRETARY_TOKEN}, allow_redirects=False
        )
        signed_in = await sign_in(session, console.base, SECRETARY_TOKEN)
        export = await session.post(
            f"{console.base}/console/exports/statistics",
            data={"year": "2026"},
            allow_redirects=False,
        )
        forged = await session.post(
            f"{console.base}/console/logout", data={"csrf_token": "guess"}, allow_redirects=False
        )
        still_in = await session.get(f"{console.base}/console/", allow_redirects=False)

    assert (login.status, await login.text()) == (
        403,
        "请求缺少有效的安全令牌（CSRF），请刷新页面后重试。",
    )
    assert signed_in.status == 303
    assert export.status == 403
    assert forged.status == 403
    assert still_in.status == 200


async def test_the_session_cookie_is_httponly_and_strict(console: Console) -> None:
    async with browser() as session:
        response = await sign_in(session, console.base, SECRETARY_TOKEN)
        cookie = response.headers["Set-Cookie"]

    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1; behind HTTPS it is set


async def test_a_secretary_reads_a_consultation_and_filters_its_opinions(console: Console) -> None:
    await hold_consultation(console.group)
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/") as listing:
            consultations = await listing.text()
        async with session.get(f"{console.base}/console/consultations/1") as page:
            whole = await page.text()
        async with session.get(
            f"{console.base}/console/consultations/1", params={"kind": "suggestion"}
        ) as page:
            suggestions = await page.text()

    assert "夜市延长到23点" in consultations
    assert "报送意见" in consultations
    assert "王秘书（秘书）" in whole
    assert "夜市噪音影响居民休息" in whole
    assert "设置夜市分区" in whole
    assert "进入「报送意见」" in whole
    assert "<svg" in whole
    assert "1 票" in whole
    assert "2 票" in whole
    assert "市商务局" in whole
    assert "待答复" in whole
    assert "设置夜市分区" in suggestions
    assert "夜市噪音影响居民休息" not in suggestions


async def test_the_list_comes_a_page_at_a_time_and_by_group(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five sessions, three in 群1 and two in 社区群, two to a page.
    monkeypatch.setattr("bot.web.console.LIST_PAGE_SIZE", 2)
    community = Group(console.app, console.group.clock, console.group.sender, "社区群")
    for number, group in enumerate([console.group, community] * 2 + [console.group], start=1):
        await group.say(MODERATOR, f"/协商 开始 第{number}场")
        await group.say(MODERATOR, "/协商 结束")
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        pages = []
        for query in (
            {},
            {"page": "2"},
            {"page": "9"},
            {"group": "2"},
            {"group": "2", "page": "2"},
        ):
            async with session.get(f"{console.base}/console/", params=query) as page:
                pages.append(await page.text())
        async with session.get(f"{console.base}/console/", params={"page": "二"}) as page:
            refused = (page.status, await page.text())

    def topics(page: str) -> list[str]:
        return re.findall(r"第(\d)场", page)

    assert [topics(page) for page in pages] == [
        ["5", "4"],
        ["3", "2"],
        ["1"],
        ["4", "2"],
        ["4", "2"],
    ]
    assert "第 1 / 3 页，共 5 场" in pages[0]
    assert 'href="/console/?page=2" rel="next"' in pages[0]
    assert "上一页" not in pages[0]
    assert 'href="/console/?page=1" rel="prev"' in pages[1]
    assert "第 3 / 3 页，共 5 场" in pages[2]  # past the last page: the last page, as for 社区群
    assert "第 1 / 1 页，共 2 场" in pages[3]
    assert '<option value="2" selected>社区群</option>' in pages[3]
    assert refused == (400, "页编号应为数字，而不是「二」。")


async def test_downloads_hold_the_opinions_ballots_and_referrals(console: Console) -> None:
    await hold_consultation(console.group)
    async with browser() as session:
        await sign_in(session, console.base, LEADER_TOKEN)  # leaders may download
        files = {}
        for name in ("opinions.xlsx", "opinions.csv", "ballots.xlsx", "referrals.xlsx"):
            async with session.get(f"{console.base}/console/consultations/1/{name}") as response:
                assert response.status == 200, name
                files[name] = (await response.read(), response.headers["Content-Disposition"])

    opinions = list(load_workbook(io.BytesIO(files["opinions.xlsx"][0])).active.values)
    assert opinions[0] == ("编号", "类别", "委员", "内容", "附议", "时间", "状态")
    assert opinions[2][:5] == ("#2", "建议", "李四", "设置夜市分区，靠近居民区的摊位22点收摊", 1)
    rows = list(csv.reader(io.StringIO(files["opinions.csv"][0].decode("utf-8-sig"))))
    assert rows[1][:3] == ["#1", "意见", "张三"]
    ballots = list(load_workbook(io.BytesIO(files["ballots.xlsx"][0])).active.values)
    # An anonymous poll is given as its counts, never ballot by ballot.
    assert ballots[0] == ("投票", "问题", "投票人", "选择", "票数", "时间")
    counts = [row[2:6] for row in ballots[1:]]
    assert counts == [
        ("匿名（只计票数）", "支持", 2, None),
        ("匿名（只计票数）", "反对", 1, None),
        ("匿名（只计票数）", "弃权", 0, None),
    ]
    assert not {"张三", "李四", "王五"} & {str(cell) for row in ballots for cell in row}
    referrals = list(load_workbook(io.BytesIO(files["referrals.xlsx"][0])).active.values)
    assert referrals[1][:4] == ("#1", "市商务局", None, "#2")
    assert referrals[1][6] == "待答复"
    assert "filename*=UTF-8''" in files["ballots.xlsx"][1]


async def test_the_year_export_shows_progress_and_the_bot_answers_meanwhile(
    console: Console,
) -> None:
    await hold_consultation(console.group)
    reached = threading.Event()
    release = threading.Event()
    work = console.app.console.statistics_work(2026)  # type: ignore[union-attr]

    def held_work(progress: Progress) -> bytes:
        def report(done: int, total: int, step: str) -> None:
            progress(done, total, step)
            if done == 1:  # hold the export mid-way until the group has been answered
                reached.set()
                assert release.wait(30)

        return work(report)

    assert console.app.console is not None
    job = console.app.console.jobs.start(
        owner="王秘书", title="统计", filename="s.xlsx", content_type="x", work=held_work
    )
    assert reached.wait(30)
    answer = await console.group.answer("赵六", "/协商 状态")
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/jobs/{job.id}") as response:
            midway = await response.json()
    release.set()
    await console.app.console.jobs.wait()

    assert "夜市延长到23点" in answer
    assert "报送意见" in answer
    assert midway["state"] == "running"
    assert 0 < midway["percent"] < 100
    assert job.state == "done"
    assert job.result is not None
    sheets = load_workbook(io.BytesIO(job.result)).sheetnames
    assert sheets == ["总计", "按月", "按群"]


async def test_the_statistics_page_starts_an_export_to_download(console: Console) -> None:
    await hold_consultation(console.group)
    async with browser() as session:
        await sign_in(session, console.base, LEADER_TOKEN)
        async with session.get(f"{console.base}/console/stats?year=2026") as page:
            stats = await page.text()
        csrf = await csrf_of(session, f"{console.base}/console/stats?year=2026")
        started = await session.post(
            f"{console.base}/console/exports/statistics",
            data={"csrf_token": csrf, "year": "2026"},
            allow_redirects=False,
        )
        assert console.app.console is not None
        await console.app.console.jobs.wait()
        job_url = started.headers["Location"].removesuffix("/view")
        async with session.get(f"{console.base}{job_url}") as response:
            state = await response.json()
        async with session.get(f"{console.base}{state['download']}") as response:
            workbook = load_workbook(io.BytesIO(await response.read()))

    assert "11月" in stats
    assert "群1" in stats
    assert state["state"] == "done"
    assert state["percent"] == 100
    by_month = list(workbook["按月"].values)
    assert by_month[11] == ("11月", 1, 1, 1, 1)


async def test_a_bad_year_gets_a_chinese_answer(console: Console) -> None:
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/stats?year=abc") as response:
            answer = (response.status, await response.text())

    assert answer == (400, "年份应写成 2026 这样的四位数，而不是 abc")


async def test_a_user_added_on_the_command_line_signs_in_until_removed(
    console: Console,
    ready_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    assert cli_main(["user", "add", "赵秘书", "--role", "leader"]) == 0
    printed = capsys.readouterr().out
    token = printed.strip().splitlines()[-1]
    stored = console.group.rows("SELECT token_hash FROM console_user")
    async with browser() as session:
        signed_in = await sign_in(session, console.base, token)
        async with session.get(f"{console.base}/console/") as page:
            who = await page.text()
        assert cli_main(["user", "remove", "赵秘书"]) == 0
        after = await session.get(f"{console.base}/console/", allow_redirects=False)

    assert "已添加用户 赵秘书（领导（只读））" in printed
    assert len(stored) == 1
    assert token not in stored[0][0]
    assert signed_in.status == 303
    assert "赵秘书（领导（只读））" in who
    assert after.status == 303  # removed: sent back to sign in


async def test_a_leader_reads_but_cannot_remove_users_and_a_secretary_can(
    console: Console,
    ready_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    assert cli_main(["user", "add", "赵秘书"]) == 0
    capsys.readouterr()
    async with browser() as leader, browser() as secretary:
        await sign_in(leader, console.base, LEADER_TOKEN)
        async with leader.get(f"{console.base}/console/users") as page:
            leader_sees = (page.status, await page.text())
        leader_csrf = await csrf_of(leader, f"{console.base}/console/stats")
        refused = await leader.post(
            f"{console.base}/console/users/1/remove",
            data={"csrf_token": leader_csrf},
            allow_redirects=False,
        )
        await sign_in(secretary, console.base, SECRETARY_TOKEN)
        async with secretary.get(f"{console.base}/console/users") as page:
            listing = await page.text()
        csrf = await csrf_of(secretary, f"{console.base}/console/users")
        removed = await secretary.post(
            f"{console.base}/console/users/1/remove",
            data={"csrf_token": csrf},
            allow_redirects=False,
        )

    assert leader_sees == (403, "领导账号只能查看和下载，不能修改。")
    assert refused.status == 403
    assert "赵秘书" in listing
    assert "李主任（领导（只读））" in listing
    assert removed.status == 303
    assert console.group.count("console_user") == 0


def _docx(text: str) -> bytes:
    document = Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
async def stored_minutes(console: Console, clock: ManualClock) -> None:
    """Two stored versions of consultation 1's minutes whose one theme quotes opinion #1."""
    await hold_consultation(console.group)
    body = {"themes": [{"title": "噪音与作息", "opinions": [{"id": 1, "text": "…"}]}]}

    def store(session: Session) -> None:
        for number in (1, 2):
            add_minutes_version(
                session,
                consultation_id=1,
                markdown=f"# 会议纪要（第{number}版）\n\n一、噪音与作息",
                body=body,
                docx=_docx(f"会议纪要 第{number}版"),
                method="tfidf",
                created_by=None,
                now=clock.now(),
            )

    await console.app.database.run(store)


@pytest.mark.usefixtures("stored_minutes")
async def test_the_minutes_section_lists_versions_filters_by_theme_and_downloads(
    console: Console,
) -> None:
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/consultations/1") as page:
            whole = await page.text()
        async with session.get(
            f"{console.base}/console/consultations/1", params={"theme": "0"}
        ) as page:
            themed = await page.text()
        async with session.get(f"{console.base}/console/consultations/1/minutes/1.docx") as file:
            first = Document(io.BytesIO(await file.read()))
        async with session.get(f"{console.base}/console/consultations/1/minutes/2.md") as file:
            markdown = await file.text()
        async with session.get(f"{console.base}/console/consultations/1/minutes/9.md") as file:
            missing = (file.status, await file.text())

    assert "最新：第 2 版" in whole
    assert "<h1>会议纪要（第2版）</h1>" in whole  # the minutes as text, not Markdown
    assert "第 1 版" in whole
    assert '<option value="0" selected>噪音与作息</option>' in themed
    assert "夜市噪音影响居民休息" in themed
    assert "设置夜市分区" not in themed
    assert [p.text for p in first.paragraphs] == ["会议纪要 第1版"]
    assert markdown.startswith("# 会议纪要（第2版）")
    assert missing == (404, "这场协商没有第 9 版纪要。")

"""Records that must not drift: one deadline is one date wherever it is shown, and a letter
once posted is the same letter in the group, the console and `xieshang letter` ever after.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session

from bot.core.clock import ManualClock
from bot.runtime.cli import main as cli_main
from storage.enums import Role
from storage.referrals import fill_letter, get_letter
from tests.bot.web.support import SECRETARY_TOKEN, Console, browser, sign_in
from tests.support import MODERATOR, Group

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def ready_to_refer(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 夜市延长到23点")
    await group.say("张三", "/建议 设置夜市分区，靠近居民区的摊位22点收摊")
    await group.say("李四", "/附议 #1")
    await group.say(MODERATOR, "/协商 阶段 报送意见")


async def as_secretary(group: Group, text: str) -> str:
    return await group.answer("秘书", text, role=Role.SECRETARY)


async def download(console: Console, path: str) -> bytes:
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/{path}") as response:
            assert response.status == 200, (path, await response.text())
            return await response.read()


async def page(console: Console, path: str) -> str:
    return (await download(console, path)).decode()


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def cli_letter(
    number: int,
    ready_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    capsys.readouterr()
    assert cli_main(["letter", str(number), "--format", "md"]) == 0
    return capsys.readouterr().out


async def test_one_deadline_is_one_date_in_chat_letter_console_and_exports(
    console: Console,
    clock: ManualClock,
    ready_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = console.group
    clock.set(at(2026, 12, 7, 10))
    await ready_to_refer(group)

    said = await as_secretary(group, "/报送 #1 市商务局 期限 30天")
    consultation_page = await page(console, "consultations/1")
    workbook = load_workbook(io.BytesIO(await download(console, "consultations/1/referrals.xlsx")))
    csv_rows = list(
        csv.reader(
            io.StringIO(
                (await download(console, "consultations/1/referrals.csv")).decode("utf-8-sig")
            )
        )
    )
    letter_docx = docx_text(await download(console, "consultations/1/referrals/1/letter.docx"))
    letter_cli = cli_letter(1, ready_database_url, monkeypatch, capsys)

    # 30 days from 12月7日, the last day included: 1月6日, and nowhere 1月7日 00:00.
    assert "请于 1月6日 前答复。" in said
    assert "请于2027年1月6日前答复" in said  # the letter posted in the group
    assert "请于2027年1月6日前答复" in letter_docx
    assert "请于2027年1月6日前答复" in letter_cli
    assert '<time class="due">2027-01-06</time>' in consultation_page
    assert "2027-01-07" not in consultation_page
    sheet = workbook.active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    due = sheet.cell(row=2, column=header.index("答复期限") + 1)
    assert due.is_date
    assert (due.value.date(), due.number_format) == (date(2027, 1, 6), "yyyy-mm-dd")
    assert csv_rows[1][csv_rows[0].index("答复期限")] == "2027-01-06"

    # Reminders count to the same day, and the day itself is still on time.
    clock.set(at(2027, 1, 5, 9))
    reminders = await group.app.scheduler.run_due(clock.now())
    clock.set(at(2027, 1, 6, 23, 59))
    on_the_day = await group.answer("张三", "/督办")
    clock.set(at(2027, 1, 7, 0, 1))
    after_it = await group.answer("张三", "/督办")

    assert any("答复期限是 1月6日，还有 1 天" in text for text in reminders)
    assert on_the_day == "目前没有逾期未答复的报送。"
    assert "期限 1月6日，逾期 1 天" in after_it


async def test_a_reply_on_the_last_day_is_on_time_and_the_next_day_late(
    console: Console, clock: ManualClock
) -> None:
    group = console.group
    clock.set(at(2026, 12, 7, 10))
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市商务局 期限 12月8日")
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    clock.set(at(2026, 12, 8, 23, 59))

    on_time = await group.answer("联络员", "/反馈 #1 B 正在选址", role=Role.LIAISON)
    await as_secretary(group, "/重办 #1 没有时间表 期限 12月9日")
    clock.set(at(2026, 12, 10, 0, 1))
    late = await group.answer("联络员", "/反馈 #1 A 分区已建成", role=Role.LIAISON)

    assert "（B 正在解决，按期答复）" in on_time
    assert "（A 已解决，逾期 1 天答复）" in late


async def test_letter_one_reads_the_same_before_and_after_a_reopening(
    console: Console,
    clock: ManualClock,
    ready_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = console.group
    clock.set(at(2026, 12, 7, 10))
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市商务局 期限 12月31日")
    [posted] = [text for text in await group.group_sees() if text.startswith("协商报送")]
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    before = (
        await download(console, "consultations/1/referrals/1/letter.docx"),
        cli_letter(1, ready_database_url, monkeypatch, capsys),
    )
    clock.set(at(2026, 12, 20, 15))
    await group.say("联络员", "/反馈 #1 C 列入明年计划", role=Role.LIAISON)
    clock.set(at(2026, 12, 22, 10))

    reopened = await as_secretary(group, "/重办 #1 委员认为应今年解决 期限 15天")
    after = (
        await download(console, "consultations/1/referrals/1/letter.docx"),
        cli_letter(1, ready_database_url, monkeypatch, capsys),
    )
    second = docx_text(await download(console, "consultations/1/letters/2.docx"))
    second_cli = cli_letter(2, ready_database_url, monkeypatch, capsys)
    listing = await page(console, "consultations/1")

    def rewrite_first(session: Session) -> bool:
        letter = get_letter(session, letter_id=1)
        assert letter is not None
        return fill_letter(session, letter=letter, number="改", markdown="改", docx=b"changed")

    rewritten = await console.app.database.run(rewrite_first)
    after_attempt = cli_letter(1, ready_database_url, monkeypatch, capsys)

    assert after == before
    assert not rewritten  # the repository never writes over an issued letter
    assert after_attempt == before[1]
    assert "协商报送〔2026〕1号" in posted
    assert "请于2026年12月31日前答复" in posted
    assert before[1].rstrip("\n") == posted
    assert "请于2026年12月31日前答复" in docx_text(after[0])
    # The 重办函: its own number, date and deadline, and it names the first letter.
    assert "请市商务局于 1月6日 前重新答复。" in reopened
    assert "协商重办〔2026〕2号" in reopened
    assert second.splitlines()[0] == "协商重办〔2026〕2号"
    assert "（协商报送〔2026〕1号）" in second
    assert "贵单位于2026年12月20日答复（C 列入计划）" in second
    assert "委员对答复不满意：委员认为应今年解决" in second
    assert "请于2027年1月6日前重新答复" in second
    assert second.splitlines()[-1] == "2026年12月22日"
    assert second_cli.startswith("协商重办〔2026〕2号")
    assert 'href="/console/consultations/1/letters/1.docx"' in listing
    assert 'href="/console/consultations/1/letters/2.docx"' in listing
    assert group.rows("SELECT id, kind, refers_to, number FROM referral_letter ORDER BY id") == [
        (1, "referral", None, "协商报送〔2026〕1号"),
        (2, "reopen", 1, "协商重办〔2026〕2号"),
    ]


async def test_a_letter_of_another_consultation_is_not_served(console: Console) -> None:
    group = console.group
    await ready_to_refer(group)
    await as_secretary(group, "/报送 #1 市商务局")
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        async with session.get(f"{console.base}/console/consultations/2/letters/1.docx") as r:
            answer = (r.status, await r.text())

    assert answer == (404, "这场协商没有第 1 号函。")

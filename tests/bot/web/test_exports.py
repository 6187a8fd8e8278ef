"""Exports are data: whatever members, platforms and departments wrote comes out of every
XLSX and CSV as text, never as a formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from bot.runtime.cli import main as cli_main
from storage.enums import Role
from tests.bot.web.support import SECRETARY_TOKEN, Console, browser, sign_in
from tests.support import MODERATOR, Group

SEEDS = ("=1+1", "+1", "-1", "@SUM(1)")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def hold_a_hostile_consultation(console: Console) -> None:
    """Every seed as a group title, a member's name, an opinion, a poll option, a
    department and a reply."""
    group = Group(console.app, console.group.clock, console.group.sender, conversation="=1+1")
    await group.say(MODERATOR, "/协商 开始 =1+1")
    for seed in SEEDS:
        await group.say(seed, f"/意见 {seed}")
        await group.say(seed, f"/建议 {seed}")
    await group.say(MODERATOR, "/投票 =1+1 | =1+1 | +1 | -1 | @SUM(1)")
    for number, seed in enumerate(SEEDS, start=1):
        await group.say(seed, f"/投 {number}")
    await group.say(MODERATOR, "/结束投票")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.say("秘书", "/报送 #2 #4 @SUM(1) 协办 -1、+1", role=Role.SECRETARY)
    await group.say(MODERATOR, "/协商 阶段 办理反馈")
    await group.say("联络员", "/反馈 #1 A =1+1", role=Role.LIAISON)


async def console_files(console: Console) -> dict[str, bytes]:
    """Every download of consultation 1, and the year's statistics export."""
    files = {}
    async with browser() as session:
        await sign_in(session, console.base, SECRETARY_TOKEN)
        for what in ("opinions", "ballots", "referrals"):
            for fmt in ("xlsx", "csv"):
                url = f"{console.base}/console/consultations/1/{what}.{fmt}"
                async with session.get(url) as response:
                    assert response.status == 200, url
                    files[f"{what}.{fmt}"] = await response.read()
    assert console.app.console is not None
    files["statistics.xlsx"] = console.app.console.statistics_work(2026)(lambda *_: None)
    return files


def texts_of(workbook: Workbook) -> list[str]:
    """Every text cell of every sheet; fails on any formula."""
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found.append(cell.value)
    return found


def assert_no_formula_starts(cells: list[str], where: str) -> None:
    started = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert started == [], where


async def test_every_export_holds_the_seeds_as_text_and_no_formula(
    console: Console,
    ready_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await hold_a_hostile_consultation(console)
    files = await console_files(console)
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    assert (
        cli_main(
            ["stats", "--year", "2026", "--format", "xlsx", "--output", str(tmp_path / "s.xlsx")]
        )
        == 0
    )
    files["cli-statistics.xlsx"] = (tmp_path / "s.xlsx").read_bytes()

    seen: dict[str, list[str]] = {}
    for name, data in files.items():
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            cells = [cell for row in rows for cell in row]
        else:
            cells = texts_of(load_workbook(io.BytesIO(data)))
        assert_no_formula_starts(cells, name)
        seen[name] = cells

    # The seeds are there, each marked as text, where members put them.
    for name in ("opinions.xlsx", "opinions.csv"):
        assert {f"'{seed}" for seed in SEEDS} <= set(seen[name]), name  # names and opinions
    for name in ("ballots.xlsx", "ballots.csv"):
        assert {f"'{seed}" for seed in SEEDS} <= set(seen[name]), name  # voters and options
    for name in ("referrals.xlsx", "referrals.csv"):
        assert {"'@SUM(1)", "'-1、+1", "'=1+1"} <= set(seen[name]), name  # departments, reply
    assert "'=1+1" in seen["statistics.xlsx"]  # the group's title

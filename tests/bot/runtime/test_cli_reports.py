"""`xieshang stats` and `xieshang letter` answer wrong input with one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.runtime.cli import main


@pytest.fixture
def empty_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    database = tmp_path / "xieshang.db"
    monkeypatch.setenv("XIESHANG_DATABASE__URL", f"sqlite:///{database}")
    return database


def test_stats_of_an_empty_year_as_json(
    empty_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--year", "2026", "--format", "json"]) == 0

    figures = json.loads(capsys.readouterr().out)
    assert figures["year"] == 2026
    assert figures["consultations"] == 0
    assert figures["adoption_rate"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats", "--year", "去年"], "年份应写成 2026 或 all"),
        (["stats", "--format", "xlsx"], "xlsx 格式请用 --output 指定文件"),
        (["letter", "42"], "没有第 42 号报送函"),
    ],
)
def test_wrong_input_is_one_line_and_exit_two(
    empty_database: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2

    assert message in capsys.readouterr().err

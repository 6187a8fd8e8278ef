"""`xieshang minutes`: the secretary's export of a consultation's minutes, and the minutes a
replay asks for, built with the sentence vectors as `/纪要` builds them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from docx import Document

from bot.runtime.cli import main
from minutes import E5Embedder
from storage.engine import make_engine
from tests.bot.runtime.test_cli import ROOT, transcript, xieshang

SAID = [
    "/意见 加装电梯的费用应当按楼层高低分摊",
    "/意见 一楼住户可以少出或者不出电梯费用",
    "/建议 设立老旧小区加装电梯专项补贴",
    "施工期间的噪音和扬尘要管住",
]


def consultation_lines(*, ask_for_minutes: bool = False) -> list[dict[str, str]]:
    """The transcript of a short consultation, ending with the secretary's /纪要 if asked."""
    lines = [
        {
            "time": "2026-11-24T09:00:00+08:00",
            "sender_id": "m",
            "sender_name": "主持人",
            "role": "moderator",
            "text": "/协商 开始 老旧小区加装电梯",
        }
    ]
    lines += [
        {
            "time": f"2026-11-24T09:0{i + 1}:00+08:00",
            "sender_id": f"w{i}",
            "sender_name": f"委员{i}",
            "text": text,
        }
        for i, text in enumerate(SAID)
    ]
    if ask_for_minutes:
        lines.append(
            {
                "time": "2026-11-24T09:30:00+08:00",
                "sender_id": "s",
                "sender_name": "秘书",
                "role": "secretary",
                "text": "/纪要",
            }
        )
    return lines


def consultation(tmp_path: Path) -> None:
    result = xieshang("replay", str(transcript(tmp_path, consultation_lines())), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


@dataclass(frozen=True)
class Ran:
    """What a run of the command printed, and how it ended."""

    code: int
    out: str
    err: str


Cli = Callable[..., Ran]


@pytest.fixture
def cli(
    ready_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """`xieshang` run in this process (so it can share the loaded model) on the test
    database, as an operator runs it from the project's folder; `vectors` turns the
    sentence vectors on or off for that run."""
    for name in os.environ:
        if name.startswith("XIESHANG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("XIESHANG_DATABASE__URL", ready_database_url)
    # Set as several processes on PostgreSQL must set it (a key file is for SQLite alone).
    monkeypatch.setenv("XIESHANG_BALLOT_SECRET", "test-ballot-key")

    def run(*args: str, vectors: bool) -> Ran:
        monkeypatch.setenv("XIESHANG_MINUTES__VECTORS__ENABLED", str(vectors).lower())
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def rows(ready_database_url: str) -> Iterator[Callable[[str], list[tuple[object, ...]]]]:
    """Rows of a SQL query on the test database."""
    engine = make_engine(ready_database_url)

    def query(sql: str) -> list[tuple[object, ...]]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]

    yield query
    engine.dispose()


WITH_VECTORS = {"vectors": E5Embedder.name, "fallback": None}


def test_a_replay_ending_in_minutes_leaves_a_version_built_with_vectors(
    cli: Cli,
    rows: Callable[[str], list[tuple[object, ...]]],
    tmp_path: Path,
    bundled_model: E5Embedder,
) -> None:
    path = transcript(tmp_path, consultation_lines(ask_for_minutes=True))

    replayed = cli("replay", str(path), vectors=True)

    assert replayed.code == 0, replayed.err
    out = replayed.out
    # The minutes follow the secretary's request, as the group receives them.
    assert out.index("秘书：/纪要") < out.index("正在生成纪要") < out.index("### 会议纪要")
    assert out.rstrip().endswith("（纪要第 1 版）")
    assert "未使用语义向量" not in out
    assert "生成纪要 1 版。" in replayed.err
    # In the database when the replay returns, built with every statement's vector.
    assert rows("SELECT count(*) FROM statement_vector") == [(len(SAID),)]
    [(number, method, body)] = rows("SELECT number, method, body FROM minutes_version")
    assert (number, method) == (1, "e5")
    assert json.loads(str(body))["method"] == WITH_VECTORS
    stored = cli("minutes", "1", "--format", "json", vectors=True)
    assert json.loads(stored.out)["method"] == WITH_VECTORS


def test_minutes_new_after_a_replay_computes_the_missing_vectors(
    cli: Cli,
    rows: Callable[[str], list[tuple[object, ...]]],
    tmp_path: Path,
    bundled_model: E5Embedder,
) -> None:
    # A replay that ends before the background gets to the vectors leaves none.
    assert cli("replay", str(transcript(tmp_path, consultation_lines())), vectors=False).code == 0
    assert rows("SELECT count(*) FROM statement_vector") == [(0,)]

    built = cli("minutes", "1", "--new", "--format", "json", vectors=True)

    assert built.code == 0, built.err
    assert json.loads(built.out)["method"] == WITH_VECTORS
    assert f"已生成纪要第 1 版，使用语义向量 {E5Embedder.name}" in built.err
    assert rows("SELECT count(*) FROM statement_vector") == [(len(SAID),)]
    assert rows("SELECT number, method FROM minutes_version") == [(1, "e5")]


def test_minutes_new_says_when_it_had_to_use_words_alone(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unloadable:
        def __init__(self, threads: int) -> None:
            raise OSError("model file missing")

    monkeypatch.setattr("workers.vectors.E5Embedder", Unloadable)
    assert cli("replay", str(transcript(tmp_path, consultation_lines())), vectors=False).code == 0

    built = cli("minutes", "1", "--new", vectors=True)

    assert built.code == 0, built.err
    assert "已生成纪要第 1 版，未使用语义向量（语义模型无法加载），主题仅按字词归纳" in built.err
    assert "> 注：本版纪要未使用语义向量（语义模型无法加载）" in built.out


def test_a_replay_says_when_the_minutes_it_asked_for_failed(
    cli: Cli,
    rows: Callable[[str], list[tuple[object, ...]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("workers.minutes_worker.make_minutes", broken)
    path = transcript(tmp_path, consultation_lines(ask_for_minutes=True))

    replayed = cli("replay", str(path), vectors=False)

    assert replayed.code == 0, replayed.err
    assert replayed.out.rstrip().endswith(
        "协商助手：生成纪要时出错了，已记录。请稍后再发 /纪要 试试。"
    )
    assert "纪要生成失败 1 次（原因见日志）" in replayed.err
    assert rows("SELECT count(*) FROM minutes_version") == [(0,)]
    assert rows("SELECT count(*) FROM minutes_request WHERE done_at IS NULL") == [(0,)]


def test_minutes_as_docx_and_json_from_the_stored_version(tmp_path: Path) -> None:
    consultation(tmp_path)
    target = tmp_path / "f.docx"

    docx = xieshang("minutes", "1", "--format", "docx", "--output", str(target), tmp_path=tmp_path)
    as_json = xieshang("minutes", "1", "--format", "json", tmp_path=tmp_path)

    assert docx.returncode == 0, docx.stderr
    assert "已生成纪要第 1 版" in docx.stderr
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "一、概况" in text
    assert "设立老旧小区加装电梯专项补贴" in text
    assert as_json.returncode == 0, as_json.stderr
    assert "已生成" not in as_json.stderr  # the stored version, not a new one
    body = json.loads(as_json.stdout)
    assert body["consultation"]["topic"] == "老旧小区加装电梯"
    assert body["participation"]["statements"] == 4


def test_an_unknown_consultation_gets_a_chinese_error(tmp_path: Path) -> None:
    result = xieshang("minutes", "99", "--format", "json", tmp_path=tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "xieshang: 没有第 99 号协商"

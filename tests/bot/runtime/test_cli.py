"""The `xieshang` command as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[3]


def xieshang(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("XIESHANG_")
    }
    environment["XIESHANG_DATABASE__URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    environment["XIESHANG_SECURITY__BALLOT_SECRET_FILE"] = str(tmp_path / "ballot-secret")
    # No sentence model in the background of a replay: loading it is the slow part.
    environment["XIESHANG_MINUTES__VECTORS__ENABLED"] = "false"
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.runtime.cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def transcript(tmp_path: Path, lines: list[dict[str, str]]) -> Path:
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    return path


SESSION = [
    {
        "time": "2026-11-24T09:00:00+08:00",
        "sender_id": "m",
        "sender_name": "主持人",
        "role": "moderator",
        "text": "/协商 开始 夜市延长营业",
    },
    {
        "time": "2026-11-24T09:01:00+08:00",
        "sender_id": "a",
        "sender_name": "张三",
        "text": "/意见 噪音要管住",
    },
    {
        "time": "2026-11-24T09:02:00+08:00",
        "sender_id": "m",
        "sender_name": "主持人",
        "role": "moderator",
        "text": "/投票 延长到23点？| 支持 | 反对 截止 10分钟",
    },
    {"time": "2026-11-24T09:03:00+08:00", "sender_id": "a", "sender_name": "张三", "text": "/投 1"},
    {"time": "2026-11-24T09:30:00+08:00", "sender_id": "b", "sender_name": "李四", "text": "/投 2"},
]


def test_replay_prints_the_bots_replies_and_fires_deadlines(tmp_path: Path) -> None:
    result = xieshang("replay", str(transcript(tmp_path, SESSION)), tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "主持人：/协商 开始 夜市延长营业" in out
    assert "协商助手：协商开始：「夜市延长营业」" in out
    assert "协商助手：已记录张三的意见 #1" in out
    assert "协商助手：投票 #1 结果：延长到23点？" in out  # the deadline passed at 09:12
    assert out.index("投票 #1 结果") < out.index("李四：/投 2")
    assert "投票 #1 已结束" in out
    assert "回放完成：5 条消息" in result.stderr


def test_replaying_the_same_file_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    path = transcript(tmp_path, SESSION)
    xieshang("replay", str(path), tmp_path=tmp_path)

    again = xieshang("replay", str(path), tmp_path=tmp_path)

    assert "（重复 5，" in again.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM opinion")).scalar_one() == 1
    engine.dispose()


def test_replay_skips_unreadable_lines_and_says_which(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"time": "2026-11-24T09:00:00+08:00", "sender_id": "a", "text": "/帮助"}\n'
        "not json\n"
        '{"time": "2026-11-24 09:00", "sender_id": "a", "text": "/帮助"}\n',
        encoding="utf-8",
    )

    result = xieshang("replay", str(path), tmp_path=tmp_path)

    assert result.returncode == 0
    assert "第 2 行无法读取，已跳过" in result.stdout
    assert "第 3 行无法读取，已跳过：time 需要带时区" in result.stdout


def test_db_upgrade(tmp_path: Path) -> None:
    result = xieshang("db", "upgrade", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "数据库已是最新结构" in result.stdout


def test_a_wrong_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = xieshang("run", tmp_path=tmp_path, XIESHANG_WEB__PORT="八千")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "xieshang: 配置项 web.port 有误：应为整数（见 config.yaml 或环境变量 XIESHANG_WEB__PORT）"
    ]

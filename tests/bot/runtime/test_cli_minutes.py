"""`xieshang minutes`: the secretary's export of a consultation's minutes."""

from __future__ import annotations

import json
from pathlib import Path

from docx import Document

from tests.bot.runtime.test_cli import transcript, xieshang

SAID = [
    "/意见 加装电梯的费用应当按楼层高低分摊",
    "/意见 一楼住户可以少出或者不出电梯费用",
    "/建议 设立老旧小区加装电梯专项补贴",
    "施工期间的噪音和扬尘要管住",
]


def consultation(tmp_path: Path) -> None:
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
    result = xieshang("replay", str(transcript(tmp_path, lines)), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


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

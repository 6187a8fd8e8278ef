"""Cleaning members' text and formatting the bot's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import UsageError
from bot.core.text import (
    bar,
    clean_member_text,
    format_refs,
    format_time,
    parse_duration,
    parse_refs,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30分钟", timedelta(minutes=30)),
        ("2小时", timedelta(hours=2)),
        ("1天", timedelta(days=1)),
        ("1小时30分钟", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("９０秒", timedelta(seconds=90)),
        ("0.5小时", timedelta(minutes=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["明天", "30", "分钟", "0分钟", "400天", "3分钟后"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_refs() -> None:
    assert parse_refs("#12 #15") == [12, 15]
    assert parse_refs("＃12，＃15、3") == [12, 15, 3]
    assert parse_refs("") == []
    with pytest.raises(UsageError):
        parse_refs("#12 第三条")


def test_refs_fold_into_ranges() -> None:
    assert format_refs([12, 13, 14, 20, 48, 47]) == "#12–#14、#20、#47–#48"
    assert format_refs([5]) == "#5"


def test_invisible_and_control_characters_are_removed() -> None:
    text = "建议\u200b增加\u202e补贴\x00\x07\r\n\n\n\n第二段\t结尾  "

    assert clean_member_text(text) == "建议增加补贴\n\n第二段 结尾"


def test_times_show_in_the_configured_zone() -> None:
    moment = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)

    assert format_time(moment, ZoneInfo("Asia/Shanghai")) == "11月24日 15:05"


def test_bars() -> None:
    assert bar(0.33) == "███░░░░░░░"
    assert bar(1.0) == "██████████"
    assert bar(0.0) == "░░░░░░░░░░"

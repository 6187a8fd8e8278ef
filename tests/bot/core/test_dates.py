"""Deadlines and dates as members write them, resolved in Asia/Shanghai against a clock
that stands still on Monday 7 December 2026, 09:00."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import Day, Moment
from bot.core.errors import UsageError

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("明天下午3点", "2026-12-08 15:00"),
        ("明天 下午三点", "2026-12-08 15:00"),
        ("周五18:00", "2026-12-11 18:00"),
        ("周五 18：00", "2026-12-11 18:00"),
        ("星期五晚上8点", "2026-12-11 20:00"),
        ("12月10日", "2026-12-10 23:59"),
        ("12月10号 18:00", "2026-12-10 18:00"),
        ("2026-12-31", "2026-12-31 23:59"),
        ("3天后", "2026-12-10 09:00"),
        ("三天后18点", "2026-12-10 18:00"),
        ("下周一", "2026-12-14 23:59"),
        ("下周一上午10点", "2026-12-14 10:00"),
        ("周一18:00", "2026-12-07 18:00"),
        ("周一8:00", "2026-12-14 08:00"),
        ("今晚8点", "2026-12-07 20:00"),
        ("后天中午12点", "2026-12-09 12:00"),
        ("30分钟", "2026-12-07 09:30"),
        ("半小时后", "2026-12-07 09:30"),
        ("2小时后", "2026-12-07 11:00"),
        ("18:00", "2026-12-07 18:00"),
        ("下午3点半", "2026-12-07 15:30"),
        ("8点", "2026-12-08 08:00"),
    ],
)
def test_a_deadline_reads_as_people_write_it(typed: str, expected: str) -> None:
    moment = Moment.parse(typed).at(MONDAY_9AM, SHANGHAI)

    assert moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("昨天", "已过"),
        ("上周五", "已过"),
        ("2028-01-01", "不能超过一年"),
        ("2月30日", "没有 2月30日 这一天"),
        ("下周八", "无法识别时间「下周八」，可写 30分钟、2小时、18:00、明天下午3点"),
        ("明天吃饭", "无法识别时间"),
        ("25:00", "无法识别时刻"),
    ],
)
def test_a_deadline_that_cannot_be_is_refused_in_chinese(typed: str, answer: str) -> None:
    with pytest.raises(UsageError) as refused:
        Moment.parse(typed).at(MONDAY_9AM, SHANGHAI)

    assert answer in refused.value.message


@pytest.mark.parametrize(
    ("typed", "ahead", "behind"),
    [
        ("下周五", date(2026, 12, 18), date(2026, 12, 18)),
        ("周五", date(2026, 12, 11), date(2026, 12, 4)),
        ("上周三", date(2026, 12, 2), date(2026, 12, 2)),
        ("3天前", date(2026, 12, 4), date(2026, 12, 4)),
        ("12月1日", date(2027, 12, 1), date(2026, 12, 1)),
        ("10号", date(2026, 12, 10), date(2026, 11, 10)),
    ],
)
def test_a_day_resolves_ahead_for_deadlines_and_behind_for_records(
    typed: str, ahead: date, behind: date
) -> None:
    day = Day.parse(typed)

    assert day is not None
    assert (day.after(MONDAY_9AM.date()), day.before(MONDAY_9AM.date())) == (ahead, behind)


def test_words_that_are_no_day_are_not_taken_for_one() -> None:
    assert Day.parse("市民政局") is None
    assert Day.parse("周五下午") is None  # a day and more: not a day alone

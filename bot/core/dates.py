"""Days and times as members write them: 明天下午3点, 周五18:00, 12月10日, 3天后, 下周一.

A parser of our own rather than jionlp's 时间语义解析, which reads all of these: jionlp
installs about 270 MB (its segmenter's dictionaries), prints a banner on import and would
add a quarter of a second to the bot's start; the forms a deadline or a date is written in
are few, and each is one rule below.

`Day` and `Moment` are read from text alone (a command's arguments are parsed before the
handler runs) and resolved against the clock when used, in the configured zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo

from bot.core.errors import UsageError
from bot.core.text import fold, one_line, parse_duration

# A day given without a time of day lasts to its end: a poll that closes 「12月10日」 takes
# votes all that day.
END_OF_DAY = time(23, 59)
FARTHEST = timedelta(days=366)
FORMS = "30分钟、2小时、18:00、明天下午3点、周五18:00、12月10日、3天后、下周一"
DAY_FORMS = "12月10日、2026-12-10、明天、周五、下周一、3天后"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# Chinese numerals up to 99, but not the day of a week (周一, 星期三, 礼拜五).
_NUMERAL = re.compile("(?<![周期拜])[零〇一二两三四五六七八九十]+")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS |= {str(n): n - 1 for n in range(1, 8)}
_WEEK_SHIFT = {"": None, "本": 0, "这": 0, "这个": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2}
_WEEK_SHIFT |= {"上": -1, "上个": -1}
_NAMED_DAYS = {
    "大后天": (3, ""),
    "后天": (2, ""),
    "明天": (1, ""),
    "明日": (1, ""),
    "明早": (1, "早上"),
    "明晚": (1, "晚上"),
    "今天": (0, ""),
    "今日": (0, ""),
    "今早": (0, "早上"),
    "今晚": (0, "晚上"),
    "今夜": (0, "晚上"),
    "大前天": (-3, ""),
    "前天": (-2, ""),
    "昨天": (-1, ""),
    "昨日": (-1, ""),
}
_NAMED = re.compile("|".join(sorted(_NAMED_DAYS, key=len, reverse=True)))
_DAYS_AWAY = re.compile(r"(\d{1,3})天(以后|之后|后|以前|之前|前)")
_WEEKDAY = re.compile(
    r"(下下个|下下|下个|这个|本|这|下|上个|上)?(?:周|星期|礼拜)([一二三四五六日天1-7])"
)
_DATE = re.compile(r"(?:(\d{4})[-/年.])?(\d{1,2})[-/月.](\d{1,2})[日号]?")
_DAY_OF_MONTH = re.compile(r"(\d{1,2})[日号]")
_PERIODS = "凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|晚"
_CLOCK = re.compile(rf"({_PERIODS})?(\d{{1,2}})(?:[:点时](\d{{1,2}}|半)?分?)?")
_AFTERNOON = frozenset({"下午", "傍晚", "晚上", "夜里", "夜间", "晚"})
_LATER = re.compile("(以后|之后|后)$")


def _numeral(match: re.Match[str]) -> str:
    """`十二` → `12`, `二十三` → `23`, `三` → `3` (what a deadline needs: up to 99)."""
    text = match.group(0)
    if "十" not in text:
        return "".join(str(_DIGITS[ch]) for ch in text)
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or (tens and tens not in _DIGITS):
        return text
    return str((_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0))


def _normalise(raw: str) -> str:
    """Half-width, no spaces, Arabic numerals, one word for an hour."""
    text = "".join(fold(raw).split())
    text = text.replace("个半小时", ".5小时").replace("半小时", "30分钟").replace("钟头", "小时")
    text = text.replace("个小时", "小时").replace("：", ":").replace("的", "")
    return _NUMERAL.sub(_numeral, text)


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar day as written, resolved against today: in so many days (明天, 3天后,
    昨天), a day of a week (周五, 下周一, 上周三), or a date (12月10日, 2026-12-10, 10号)."""

    offset: int | None = None
    weekday: int | None = None
    # Weeks from this one (下周: 1); None for the nearest such weekday.
    week: int | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @classmethod
    def read(cls, text: str) -> tuple[Self, str, str] | None:
        """The day that `text` (normalised) starts with, the period of the day it names
        (`今晚`: 晚上) and the rest of the text; None when it starts with no day."""
        if named := _NAMED.match(text):
            offset, period = _NAMED_DAYS[named.group(0)]
            return cls(offset=offset), period, text[named.end() :]
        if away := _DAYS_AWAY.match(text):
            count = int(away.group(1))
            return cls(offset=-count if "前" in away.group(2) else count), "", text[away.end() :]
        if weekday := _WEEKDAY.match(text):
            week = _WEEK_SHIFT[weekday.group(1) or ""]
            return cls(weekday=_WEEKDAYS[weekday.group(2)], week=week), "", text[weekday.end() :]
        if found := _DATE.match(text):
            year = int(found.group(1)) if found.group(1) else None
            month, day = int(found.group(2)), int(found.group(3))
            return cls(year=year, month=month, day=day), "", text[found.end() :]
        if of_month := _DAY_OF_MONTH.match(text):
            return cls(day=int(of_month.group(1))), "", text[of_month.end() :]
        return None

    @classmethod
    def parse(cls, raw: str) -> Self | None:
        """The day `raw` names, or None when it is no day."""
        found = cls.read(_normalise(raw))
        return found[0] if found is not None and not found[2] else None

    def after(self, today: date) -> date:
        """The day, on or after `today` when the text leaves it open (a date without a
        year, a weekday without a week)."""
        return self._resolve(today, forward=True)

    def before(self, today: date) -> date:
        """The day, on or before `today` when the text leaves it open."""
        return self._resolve(today, forward=False)

    def _resolve(self, today: date, *, forward: bool) -> date:
        if self.offset is not None:
            return today + timedelta(days=self.offset)
        if self.weekday is not None:
            if self.week is not None:
                monday = today - timedelta(days=today.weekday())
                return monday + timedelta(days=7 * self.week + self.weekday)
            ahead = (self.weekday - today.weekday()) % 7
            return today + timedelta(days=ahead if forward else ahead - 7 if ahead else 0)
        assert self.day is not None
        if self.month is None:  # 10号: this month's, or the next (last) month's
            return _month_day(today, self.day, forward=forward)
        try:
            chosen = date(self.year or today.year, self.month, self.day)
            if self.year is None and forward and chosen < today:
                chosen = date(today.year + 1, self.month, self.day)
            if self.year is None and not forward and chosen > today:
                chosen = date(today.year - 1, self.month, self.day)
        except ValueError as error:
            raise UsageError(f"没有 {self.month}月{self.day}日 这一天。") from error
        return chosen

    @property
    def open_weekday(self) -> bool:
        """A weekday without a week (周五): the next one if this week's has passed."""
        return self.weekday is not None and self.week is None


def _month_day(today: date, day: int, *, forward: bool) -> date:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            chosen = date(year, month, day)
        except ValueError:
            chosen = None
        if chosen is not None and (chosen >= today if forward else chosen <= today):
            return chosen
        month += 1 if forward else -1
        if month in (0, 13):
            year, month = year + (1 if forward else -1), 1 if forward else 12
    raise UsageError(f"没有 {day}号 这一天。")


@dataclass(frozen=True, slots=True)
class Moment:
    """A moment ahead, as a deadline is written: in so long (`30分钟`, `2小时后`, `3天后`),
    at a time of day (`18:00`, `下午3点`: today, or tomorrow once it has passed), on a day
    (`12月10日`, `下周一`: to the end of that day) or both (`明天下午3点`, `周五18:00`)."""

    lasts: timedelta | None = None
    day: Day | None = None
    clock: time | None = None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Read the moment, or raise UsageError naming the forms it may take."""
        text = _normalise(raw)
        found = Day.read(text)
        if found is not None:
            day, period, rest = found
            if (day.offset is not None and day.offset < 0) or day.week == -1:
                raise UsageError(f"截止时间「{one_line(raw, 16)}」已过，请写以后的时间。")
            if not rest and not period:
                if _DAYS_AWAY.fullmatch(text):  # 3天后: three days from now, as 3天
                    return cls(lasts=timedelta(days=day.offset or 0))
                return cls(day=day)
            return cls(day=day, clock=_clock(rest, period, raw))
        if clock := _read_clock(text, ""):
            return cls(clock=clock)
        try:
            return cls(lasts=parse_duration(_LATER.sub("", text)))
        except UsageError:
            raise UsageError(_unreadable(raw)) from None

    def at(self, now: datetime, zone: ZoneInfo) -> datetime:
        """When it is, in the time zone of `now`; UsageError when that has passed or is
        more than a year away."""
        moment = self._at(now, zone)
        if moment - now > FARTHEST:
            raise UsageError("截止时间不能超过一年。")
        return moment

    def _at(self, now: datetime, zone: ZoneInfo) -> datetime:
        if self.lasts is not None:
            return now + self.lasts
        local_now = now.astimezone(zone)
        today = local_now.date()
        if self.day is None:
            assert self.clock is not None
            moment = datetime.combine(today, self.clock, tzinfo=zone)
            if moment <= local_now:
                moment += timedelta(days=1)
            return moment.astimezone(now.tzinfo)
        moment = datetime.combine(self.day.after(today), self.clock or END_OF_DAY, tzinfo=zone)
        if moment <= local_now and self.day.open_weekday:
            moment += timedelta(days=7)
        if moment <= local_now:
            raise UsageError(f"截止时间 {moment:%Y-%m-%d %H:%M} 已过，请写以后的时间。")
        return moment.astimezone(now.tzinfo)


def _unreadable(raw: str) -> str:
    return f"无法识别时间「{one_line(raw, 16)}」，可写 {FORMS}。"


def _clock(text: str, period: str, raw: str) -> time:
    clock = _read_clock(text, period)
    if clock is None:
        raise UsageError(_unreadable(raw))
    return clock


def _read_clock(text: str, implied_period: str) -> time | None:
    """`18:00`, `18点`, `18点30分`, `3点半`, `下午3点`; None when `text` is none of them.
    A bare number is not a time (`3` could be anything); `点` or `:` makes it one."""
    match = _CLOCK.fullmatch(text)
    if match is None or not re.search("[:点时]", text):
        return None
    period = match.group(1) or implied_period
    hour = int(match.group(2))
    minutes = match.group(3) or "0"
    minute = 30 if minutes == "半" else int(minutes)
    if (period in _AFTERNOON and hour < 12) or (period == "中午" and hour < 6):
        hour += 12
    elif period in _AFTERNOON and hour == 12 and minute == 0:
        return END_OF_DAY  # 晚上12点: the end of that day
    if hour > 23 or minute > 59:
        raise UsageError(f"无法识别时刻「{one_line(text, 12)}」。")
    return time(hour, minute)

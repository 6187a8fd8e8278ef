"""Text in and out of the group: cleaning what members type, formatting what the bot says."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.errors import UsageError

# Invisible or direction-changing characters: they let a message look unlike what it stores.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_member_text(text: str) -> str:
    """What we store of a member's words: no control or invisible characters, trimmed."""
    if text.isprintable():
        # Nearly every message: one line with nothing to remove (str.isprintable is false
        # for every control, format, separator and private-use character), checked in C.
        return text.strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Unicode's line and paragraph separators: line breaks as members meant them.
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = _INVISIBLE.sub("", text)
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    )
    return _BLANK_LINES.sub("\n\n", text.replace("\t", " ")).strip()


# Characters a name, id or title never needs and that make it look unlike what it stores:
# controls (NUL among them), format characters (bidi overrides, zero-width marks, the BOM),
# surrogates, private use, and line or paragraph separators.
_NOT_IN_FIELDS = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def clean_field(text: str) -> str:
    """A platform's id, name or title as stored: without control or invisible characters,
    its whitespace runs made one space, trimmed."""
    if text.isprintable():  # the common case, checked in C: nothing to remove
        return text if "  " not in text and text == text.strip() else " ".join(text.split())
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in _NOT_IN_FIELDS)
    return " ".join(kept.split())


def fold(text: str) -> str:
    """The form commands and arguments are matched in: full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def one_line(text: str, limit: int = 40) -> str:
    """A short one-line preview of member text, for lists and acknowledgements."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_REF = re.compile(r"#?\s*(\d+)")


def parse_refs(raw: str) -> list[int]:
    """`#12 #15`, `#12，#15` or `12 15` as numbers; raises UsageError on anything else."""
    text = fold(raw)
    pieces = [p for p in re.split(r"[\s,、;]+", text) if p]
    refs: list[int] = []
    for piece in pieces:
        match = _REF.fullmatch(piece)
        if not match or len(match.group(1)) > 9:
            raise UsageError(f"无法识别编号「{one_line(piece, 12)}」")
        refs.append(int(match.group(1)))
    return refs


def format_refs(numbers: Iterable[int]) -> str:
    """`#12–#14、#20`: consecutive numbers folded into ranges."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in [*ordered, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            parts.append(f"#{start}" if start == prev else f"#{start}–#{prev}")
        start = prev = n
    return "、".join(parts)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(天|d|小时|时|h|分钟|分|min|m|秒|s)")
_UNIT_SECONDS = {
    "天": 86400,
    "d": 86400,
    "小时": 3600,
    "时": 3600,
    "h": 3600,
    "分钟": 60,
    "分": 60,
    "min": 60,
    "m": 60,
    "秒": 1,
    "s": 1,
}


def parse_duration(raw: str) -> timedelta:
    """`30分钟`, `2小时`, `1天`, `1h30m`, `90秒`; raises UsageError on anything else."""
    text = fold(raw).replace(" ", "")
    total = 0.0
    pos = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or total <= 0:
        raise UsageError(f"无法识别时长「{one_line(raw, 12)}」，请写成 30分钟、2小时 或 1天")
    if total > 366 * 86400:
        raise UsageError("时长不能超过一年")
    return timedelta(seconds=total)


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as members read it: `11月24日 15:30` in the configured zone."""
    local = moment.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def bar(share: float, width: int = 10) -> str:
    """A text bar for a share between 0 and 1: `███░░░░░░░`."""
    filled = max(0, min(width, round(share * width)))
    return "█" * filled + "░" * (width - filled)


# Markdown's structural characters, and full-width look-alikes that read the same in
# Chinese text. Look-alikes rather than backslash escapes: not every chat platform honours
# escapes, and a visible backslash is worse than a full-width bracket.
_INERT = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "@": "＠",
        "|": "｜",
        "~": "～",
    }
)


# Block structure is decided by how a line starts: a heading, a list item, a numbered item,
# or a line of = or - that turns the line above into a heading.
_LINE_START = re.compile(
    r"^(\s*)(?:(#)|([-+])(?=\s|$)|(\d+)([.)])(?=\s|$)|([=-])(?=[=\s-]*$))", re.MULTILINE
)
_FULL_WIDTH = {"#": "＃", "-": "－", "+": "＋", ".": "．", ")": "）", "=": "＝"}


def _inert_start(match: re.Match[str]) -> str:
    indent, hash_, bullet, number, delimiter, rule = match.groups()
    if number:
        return f"{indent}{number}{_FULL_WIDTH[delimiter]}"
    return indent + _FULL_WIDTH[hash_ or bullet or rule]


def markdown_inert(text: str) -> str:
    """Plain bot text (which may quote members) made inert for a platform that renders
    Markdown: no heading, list, quote, link, image, HTML, emphasis or @-mention of anyone."""
    # Markdown ends a line at a lone \r too, where `^` in a regular expression sees none.
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LINE_START.sub(_inert_start, lines.translate(_INERT))


def first_part(text: str, fits: Callable[[str], bool]) -> tuple[str, str]:
    """The longest beginning of `text` that `fits` one message, and the rest (empty when
    it all fits), for a reply too long for one message: it goes out as several that read as
    it was written. The cut is at a paragraph when the next paragraph fits a message of its
    own; a paragraph too long for any message fills this one line by line, and a line too
    long for one is cut between characters. Line breaks at the cut are dropped, never a
    character of the text."""
    if fits(text):
        return text, ""
    cut = _cut(text, fits, 0, ("\n\n", "\n"))
    return text[:cut].rstrip("\n"), text[cut:].lstrip("\n")


def _cut(text: str, fits: Callable[[str], bool], start: int, separators: tuple[str, ...]) -> int:
    """Where to end the first message, at or after `start` (which fits)."""
    if not separators:
        # A binary search: the measure may be a platform's bytes rather than characters.
        low, high = start, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(text[:middle]):
                low = middle
            else:
                high = middle - 1
        return max(low, 1)  # always some progress, whatever the measure says
    separator = separators[0]
    boundaries = [at for at in _positions(text, separator) if at > start] + [len(text)]
    best = start
    for boundary in boundaries:
        if fits(text[:boundary]):
            best = boundary
            continue
        following = text[best:boundary].strip("\n")
        if best > start and fits(following):
            return best  # the next piece goes whole into the next message
        return _cut(text, fits, best, separators[1:])
    return best


def _positions(text: str, separator: str) -> list[int]:
    found, at = [], text.find(separator)
    while at != -1:
        found.append(at)
        at = text.find(separator, at + len(separator))
    return found

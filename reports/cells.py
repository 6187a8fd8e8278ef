"""Cells of the spreadsheets (XLSX and CSV): data, never formulas, and figures as the chat
shows them.

One small module rather than a library: no maintained package covers both XLSX and CSV, and
the rules are a few lines. Every text a member, a platform or a department wrote (opinions,
names, poll options, group titles, replies) reaches a spreadsheet through `cell_text`, so
`=HYPERLINK(…)` in an opinion is shown as typed instead of running when the file is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from openpyxl.worksheet.worksheet import Worksheet

# What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP's list for CSV):
# = + - @ begin a formula; a tab or carriage return first hides one after it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(text: str) -> str:
    """Text a spreadsheet shows as typed: one that would start a formula gets a leading '.

    The apostrophe is the mark spreadsheet users know for "this is text"; the XLSX cell is
    also written as a string, so the text is never evaluated even by a program that
    ignores the mark.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def half_up(value: float, places: int) -> Decimal:
    """`value` rounded half up (3.25 → 3.3), as people round and as the chat shows it.

    Python's round() and format() round the binary value half to even (3.25 → 3.2); an
    average of whole scores is exactly representable as its shortest repr, so rounding
    that decimal gives the figure a person would write.
    """
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Score:
    """An average rating (1 to 5), shown with one decimal, rounded half up."""

    value: float

    @property
    def rounded(self) -> Decimal:
        """The figure as shown: one decimal."""
        return half_up(self.value, 1)

    @property
    def text(self) -> str:
        """`3.3`."""
        return str(self.rounded)


@dataclass(frozen=True, slots=True)
class Share:
    """A share (0 to 1) shown as a whole percentage, rounded half up."""

    value: float

    @property
    def rounded(self) -> Decimal:
        """The fraction as shown: 0.125 → 0.13 (13%)."""
        return half_up(self.value, 2)

    @property
    def text(self) -> str:
        """`13%`."""
        return f"{int(self.rounded * 100)}%"


def score_text(value: float | None) -> str:
    """An average rating as the chat shows it: `3.3`, or `—` when nobody rated."""
    return "—" if value is None else Score(value).text


def share_text(value: float | None) -> str:
    """A share as the chat shows it: `67%`, or `—` when there is nothing to divide."""
    return "—" if value is None else Share(value).text


# What a table cell may hold. Datetimes are local times already (naive, in the zone the
# export was made for): spreadsheets have no time zones.
Cell = str | int | Score | Share | date | datetime | None

DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
SCORE_FORMAT = "0.0"
SHARE_FORMAT = "0%"


def csv_cell(value: Cell) -> str:
    """A cell of a CSV file: text neutralised, numbers plain, times in local time."""
    if value is None:
        return ""
    if isinstance(value, str):
        return cell_text(value)
    if isinstance(value, Score | Share):
        return value.text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def xlsx_value(value: Cell) -> tuple[str | int | float | date | datetime | None, str | None]:
    """What an XLSX cell holds, and its number format (None: the default)."""
    if isinstance(value, str):
        return cell_text(value), None
    if isinstance(value, Score):
        return float(value.rounded), SCORE_FORMAT
    if isinstance(value, Share):
        return float(value.rounded), SHARE_FORMAT
    if isinstance(value, datetime):
        return value, TIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    return value, None


def append_cells(sheet: Worksheet, values: Sequence[Cell]) -> None:
    """Add a row to an XLSX sheet: text as strings, figures and times with their formats."""
    converted = [xlsx_value(value) for value in values]
    sheet.append([value for value, _ in converted])
    for cell, (value, number_format) in zip(sheet[sheet.max_row], converted, strict=False):
        if isinstance(value, str):
            # openpyxl would take `=…` for a formula and `#N/A` for an error value.
            cell.data_type = "s"
        if number_format is not None:
            cell.number_format = number_format

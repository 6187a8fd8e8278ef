"""What every benchmark prints: one row per figure, as a table or (with --json) as JSON lines."""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure and the aim it is held against."""

    bench: str
    name: str
    value: float
    unit: str
    aim: str = ""

    def shown(self) -> str:
        """The value with sensible precision."""
        if self.value >= 100:
            return f"{self.value:,.0f}"
        return f"{self.value:.2f}" if self.value < 10 else f"{self.value:.1f}"


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: list[Figure]) -> None:
    """Print the figures: JSON lines for `python -m bench`, else a table."""
    if "--json" in sys.argv:
        for figure in figures:
            print(json.dumps(asdict(figure), ensure_ascii=False))
        return
    print(table(figures))


def table(figures: list[Figure]) -> str:
    """A plain-text table of figures."""
    rows = [("bench", "figure", "value", "unit", "aim")]
    rows += [(f.bench, f.name, f.shown(), f.unit, f.aim) for f in figures]
    widths = [max(_width(row[i]) for row in rows) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

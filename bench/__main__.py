"""`make bench`: run every benchmark in bench/ and print one table.

Each bench/<name>.py runs in its own process (so its peak memory is its own) and prints
its figures as JSON lines when given --json. Figures from one run belong together: the
machine is shared and noisy, so compare figures measured in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Figure, table

HERE = Path(__file__).resolve().parent
# In the order they run; each takes a minute or less.
BENCHMARKS = [
    "startup",
    "ingest",
    "dingtalk_burst",
    "wecom_card_latency",
    "minutes_quality",
    "minutes_speed",
    "year_table",
]


def main() -> int:
    """Run the benchmarks one after another and print their figures together."""
    figures: list[Figure] = []
    failed = []
    began = time.perf_counter()
    for name in BENCHMARKS:
        print(f"… {name}", file=sys.stderr, flush=True)
        result = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py"), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            failed.append(name)
            print(result.stderr[-2000:], file=sys.stderr)
            continue
        figures += [Figure(**json.loads(line)) for line in result.stdout.splitlines() if line]
    print(table(figures))
    print(f"\n{len(BENCHMARKS)} benchmarks in {time.perf_counter() - began:.0f} s", end="")
    print(f"; failed: {', '.join(failed)}" if failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up to ready: `xieshang run` from launch until the local chat answers.

    python bench/startup.py [--runs 3]

Measured on a fresh database (migrations run) and again on an existing one.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, report

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def time_to_ready(folder: Path) -> float:
    """Seconds from launching `xieshang run` until its chat page answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIESHANG_")}
    env |= {
        "XIESHANG_DATABASE__URL": f"sqlite:///{folder / 'bot.db'}",
        "XIESHANG_WEB__PORT": str(port),
        "XIESHANG_SECURITY__BALLOT_SECRET_FILE": str(folder / "ballot-secret"),
    }
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                    return time.perf_counter() - began
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("xieshang run exited before it was ready") from None
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    args = parser.parse_args()
    fresh, existing = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            fresh.append(time_to_ready(folder))
            existing.append(time_to_ready(folder))
    report(
        [
            Figure(
                "startup",
                "launch→ready, new database (median)",
                statistics.median(fresh),
                "s",
                "< 3 s",
            ),
            Figure(
                "startup",
                "launch→ready, existing database (median)",
                statistics.median(existing),
                "s",
                "< 3 s",
            ),
        ]
    )


if __name__ == "__main__":
    main()

"""A real `xieshang run` in a subprocess, for tests and benchmarks against fake platforms."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


class BotProcess:
    """`xieshang run` with the given environment, its log kept in `workdir`."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.log_path = workdir / "xieshang.log"
        # The bot reads only what the test says: no settings or credentials of the shell.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("XIESHANG_", "DINGTALK_", "WECOM_"))
        }
        self.env = {
            **inherited,
            "XIESHANG_WEB__PORT": "0",
            "XIESHANG_PLATFORMS__LOCAL__ENABLED": "false",
            "XIESHANG_BALLOT_SECRET": "ballot-key-for-tests",
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        """Start the bot (it connects by itself; wait on the fake platform for that)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot.runtime.cli", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self, timeout: float = 20) -> int:
        """Stop the bot as an operator would (SIGTERM); kill it if it hangs."""
        if self._process is None:
            return 0
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                return self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
                raise
        return self._process.returncode

    def kill(self) -> None:
        """Kill the bot outright (SIGKILL): no shutdown, nothing flushed."""
        assert self._process is not None
        self._process.kill()
        self._process.wait(10)

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """Everything the bot logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

"""The runtime's secrets: the log formatter that blanks every known secret, and the key
that hashes anonymous ballots."""

from __future__ import annotations

import logging
import secrets as _random
from pathlib import Path

from bot.core.secrets import env_secret, redact, remember_secret

BALLOT_SECRET = "XIESHANG_BALLOT_SECRET"


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then blanks known secrets in the whole record, traceback
    included: a library that logs a URL with a token in it must not leak it either."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def ballot_secret(fallback_file: Path, *, allow_generated: bool) -> bytes:
    """The key that hashes (poll, member) for anonymous ballots.

    The environment wins. On the embedded default (one process, SQLite) a random key is
    generated once and kept beside the database, so `make run` needs no setup; several
    processes must share the key, so they must set the variable.
    """
    value = env_secret(BALLOT_SECRET)
    if value:
        return value.encode()
    if not allow_generated:
        raise RuntimeError(f"{BALLOT_SECRET} must be set when the database is not SQLite")
    if fallback_file.exists():
        key = fallback_file.read_bytes().strip()
        remember_secret(key.decode(errors="replace"))
        return key
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    key = _random.token_hex(32).encode()
    fallback_file.touch(mode=0o600)
    fallback_file.write_bytes(key)
    remember_secret(key.decode())
    return key

"""Secrets come from the environment only and are never logged."""

from __future__ import annotations

import logging
import os
import secrets as _random
from pathlib import Path

BALLOT_SECRET = "XIESHANG_BALLOT_SECRET"

# Every secret this process has read or been given, so the log formatter can blank them.
_known: set[str] = set()
# Shorter values are not blanked: they would mangle ordinary words and numbers.
_SHORTEST = 6


def env_secret(name: str) -> str | None:
    """The value of a secret environment variable, or None when unset or empty."""
    value = os.environ.get(name, "").strip()
    if value:
        remember_secret(value)
    return value or None


def remember_secret(value: str) -> None:
    """Never let `value` reach a log (an access token obtained at run time, say)."""
    if len(value) >= _SHORTEST:
        _known.add(value)


def redact(text: str) -> str:
    """`text` with every known secret replaced by ***."""
    for value in _known:
        if value in text:
            text = text.replace(value, "***")
    return text


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

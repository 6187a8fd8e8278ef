"""Secrets come from the environment only and are never logged."""

from __future__ import annotations

import os
import secrets as _random
from pathlib import Path

BALLOT_SECRET = "XIESHANG_BALLOT_SECRET"


def env_secret(name: str) -> str | None:
    """The value of a secret environment variable, or None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


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
        return fallback_file.read_bytes().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    key = _random.token_hex(32).encode()
    fallback_file.touch(mode=0o600)
    fallback_file.write_bytes(key)
    return key

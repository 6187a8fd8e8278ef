"""Secrets come from the environment only and are never logged: every value read here
or handed to `remember_secret` is blanked by the runtime's log formatter (`redact`)."""

from __future__ import annotations

import os

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

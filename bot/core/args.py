"""Typed arguments shared by many commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from bot.core.errors import UsageError
from bot.core.text import parse_refs


@dataclass(frozen=True, slots=True)
class NoArgs:
    """A command that takes nothing (anything after it is ignored)."""

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Accept anything."""
        return cls()


@dataclass(frozen=True, slots=True)
class Text:
    """Free text that must not be empty."""

    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """The text, trimmed; empty is a usage error."""
        text = raw.strip()
        if not text:
            raise UsageError("内容不能为空。")
        return cls(text)


@dataclass(frozen=True, slots=True)
class OptionalText:
    """Free text that may be empty."""

    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """The text, trimmed."""
        return cls(raw.strip())


@dataclass(frozen=True, slots=True)
class Refs:
    """One or more `#12` numbers."""

    numbers: tuple[int, ...]

    @classmethod
    def parse(cls, raw: str) -> Self:
        """At least one number; at most 20 at once."""
        numbers = parse_refs(raw)
        if not numbers:
            raise UsageError("请写出编号，如 #12。")
        if len(numbers) > 20:
            raise UsageError("一次最多 20 个编号。")
        return cls(tuple(dict.fromkeys(numbers)))


@dataclass(frozen=True, slots=True)
class OptionalRef:
    """At most one `#12` number."""

    number: int | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """None when nothing was written."""
        numbers = parse_refs(raw)
        if len(numbers) > 1:
            raise UsageError("只能写一个编号。")
        return cls(numbers[0] if numbers else None)

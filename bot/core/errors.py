"""Errors a handler raises to answer the sender; the dispatcher turns them into replies."""

from __future__ import annotations


class UserError(Exception):
    """Something the sender can fix; `message` is the Chinese answer, and nothing is kept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(UserError):
    """The command was malformed; the answer is its usage line."""

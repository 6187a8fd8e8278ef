"""The platform-neutral message types every adapter speaks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from storage.enums import Role

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message from a platform, with the @mention already removed from `text`."""

    platform: str
    conversation_id: str
    sender_id: str
    sender_name: str
    text: str
    message_id: str
    timestamp: datetime
    addressed: bool = True
    is_group: bool = True
    conversation_title: str = ""
    # Roles the platform itself vouches for (a DingTalk group admin, a local tab's choice).
    platform_roles: frozenset[Role] = frozenset()
    # Whatever the adapter needs to answer this message (e.g. a DingTalk sessionWebhook).
    reply_context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    # A click on a card button rather than typed text: the card shows the outcome, so the
    # answers to the sender come back in the Outcome for the adapter, not to the group.
    interactive: bool = False

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("IncomingMessage.timestamp must be timezone-aware")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one conversation, composed from one or more outbox rows."""

    platform: str
    conversation_id: str
    kind: str
    body: str
    mentions: tuple[str, ...] = ()
    reply_context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    payload: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    row_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a platform said to a send: taken, or try again (after `retry_after` seconds)."""

    ok: bool
    retry_after: float | None = None
    error: str = ""

    @classmethod
    def sent(cls) -> SendResult:
        """The platform took the message."""
        return cls(ok=True)

    @classmethod
    def retry(cls, error: str, after: float | None = None) -> SendResult:
        """The platform refused for now (throttled, unreachable); the row stays queued."""
        return cls(ok=False, retry_after=after, error=error)

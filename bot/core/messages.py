"""The platform-neutral message types every adapter speaks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.files import FileRef
from bot.core.text import clean_field, clean_member_text
from bot.core.views import CardView
from storage.enums import Role

# The database's widths for what a platform names (ids, a member's name, a group's title).
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 64
MAX_TITLE_LENGTH = 128


class Kind(StrEnum):
    """What an outgoing message is, which decides how a platform shows it."""

    TEXT = "text"
    # A short acknowledgement the outbox may fold with its neighbours.
    ACK = "ack"
    # Markdown already escaped by its renderer (the minutes, a letter).
    MARKDOWN = "markdown"
    # A card (a poll): platforms with cards lay out its view, the others show the text.
    CARD = "card"
    # A refresh of a card already shown: not a group message, only the latest counts.
    CARD_UPDATE = "card_update"
    # A stored document posted as a file (`file`); platforms that cannot take files show
    # the text, which links to the console's copy.
    FILE = "file"


@dataclass(frozen=True, slots=True)
class ReplyRoute:
    """How the platform lets the bot answer one message, in terms every platform shares:
    an address only that message opened (a DingTalk sessionWebhook, a WeCom req_id or
    response_url), until when it works, and the member a single chat belongs to. Written by
    the adapter that received the message, kept with each reply so it outlives a restart."""

    address: str = ""
    expires_at: datetime | None = None
    # In a single chat: the member it is with (the platform may answer them by user id).
    private_to: str = ""

    def to_json(self) -> dict[str, str]:
        """The form kept in the outbox and in a minutes request."""
        data = {"address": self.address, "private_to": self.private_to}
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: object) -> ReplyRoute | None:
        """Read what `to_json` wrote (None for nothing, or for what it did not write)."""
        if not isinstance(data, dict):
            return None
        expires = data.get("expires_at")
        return cls(
            address=str(data.get("address") or ""),
            expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
            private_to=str(data.get("private_to") or ""),
        )


@dataclass(frozen=True, slots=True)
class CardAction:
    """A click on a card: which thing it is about (`poll:12`) and what the member chose."""

    key: str
    values: tuple[str, ...] = ()

    @property
    def namespace(self) -> str:
        """The feature the card belongs to (`poll`), which routes the action."""
        return self.key.partition(":")[0]

    @property
    def target(self) -> str:
        """The thing within the feature (`12`, a poll's id)."""
        return self.key.partition(":")[2]


@dataclass(frozen=True, slots=True)
class Mention:
    """A member the message @-mentions: their platform id where the platform says it
    (DingTalk's atUsers), and the name written after the @ (WeCom and the local chat give
    only that)."""

    user_id: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message from a platform, with the @mention already removed from `text`; or a
    click on a card (`action`), which has no text."""

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
    # How to answer this message on its platform (None: the platform needs nothing).
    route: ReplyRoute | None = None
    # A click on a card rather than typed text: the card shows the outcome, so the answers
    # to the sender come back in the Outcome for the adapter, not to the group.
    action: CardAction | None = None
    # The members the message @-mentions (besides the bot), in the order written.
    mentions: tuple[Mention, ...] = ()
    # The text is the platform's transcript of a voice message (DingTalk's `recognition`,
    # WeCom's voice content): kept as said, and marked so in the inbound record.
    voice: bool = False

    def __post_init__(self) -> None:
        # The boundary of the bot: whatever a platform or a page sent, what goes further is
        # clean (no NUL, control, bidi or invisible characters) and fits the database, or
        # the message is refused here, never in the middle of a batch of others.
        if self.timestamp.tzinfo is None:
            raise ValueError("IncomingMessage.timestamp must be timezone-aware")
        for name in ("platform", "conversation_id", "sender_id", "message_id"):
            value = clean_field(getattr(self, name))
            if not value or len(value) > MAX_ID_LENGTH:
                raise ValueError(f"IncomingMessage.{name} is empty or too long")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "sender_name", clean_field(self.sender_name)[:MAX_NAME_LENGTH])
        title = clean_field(self.conversation_title)[:MAX_TITLE_LENGTH]
        object.__setattr__(self, "conversation_title", title)
        object.__setattr__(self, "text", clean_member_text(self.text))
        mentions = tuple(
            Mention(clean_field(m.user_id)[:MAX_ID_LENGTH], clean_field(m.name)[:MAX_NAME_LENGTH])
            for m in self.mentions
        )
        object.__setattr__(self, "mentions", tuple(m for m in mentions if m.user_id or m.name))
        if self.action is not None:
            action = CardAction(
                clean_field(self.action.key)[:MAX_ID_LENGTH],
                tuple(clean_field(value)[:MAX_ID_LENGTH] for value in self.action.values),
            )
            object.__setattr__(self, "action", action)

    @property
    def interactive(self) -> bool:
        """Whether this is a click on a card (answered in the clicker's own view)."""
        return self.action is not None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one conversation, composed from one or more outbox rows."""

    platform: str
    conversation_id: str
    kind: Kind
    body: str
    mentions: tuple[str, ...] = ()
    route: ReplyRoute | None = None
    # For a card or its update: the card as it stands when sent, for the adapter to lay out.
    card: CardView | None = None
    row_ids: tuple[int, ...] = ()
    # For a FILE: the stored document to post (`body` is what to show where files cannot go).
    file: FileRef | None = None


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


_MENTIONED = re.compile(r"[@＠]([^\s@＠，,：:。]+)")


def mentioned_names(text: str) -> list[str]:
    """The names written after an @ in a message's text, in order (`@王明 市民政局` →
    `王明`)."""
    return _MENTIONED.findall(text)

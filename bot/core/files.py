"""Files the bot posts in a group (the minutes' DOCX, a letter, a statistics workbook), named
by the stored document they are rather than carried as bytes.

An outbox row of kind FILE carries a `FileRef`: the bytes stay where the feature stored them
(a minutes version, a letter as issued, a workbook made for the chat), so a file retried ten
times or waiting out a restart is never copied into the outbox. The adapter reads the bytes
through delivery (`bot.delivery.files.Files`) only when it uploads them, and a platform's
media id is remembered there so a retry does not upload again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.settings import Settings

# What a spreadsheet and a Word document are, for the platforms that ask.
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class FileSource(StrEnum):
    """Where a file's bytes are kept (storage.files reads each)."""

    # A minutes version's DOCX (minutes_version.id).
    MINUTES = "minutes"
    # A referral letter's DOCX as issued (referral_letter.id).
    LETTER = "letter"
    # A file made for the chat alone, such as /统计 表格 (chat_file.id).
    CHAT = "chat"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A stored document to post as a file, and the name members see on it."""

    source: FileSource
    id: int
    name: str

    @property
    def key(self) -> str:
        """The document's key (`minutes:12`), under which a platform's media id is kept."""
        return f"{self.source}:{self.id}"

    @property
    def extension(self) -> str:
        """`docx`, `xlsx`: the platforms show the file's type from it."""
        return self.name.rpartition(".")[2].lower()

    @property
    def content_type(self) -> str:
        """The MIME type of the file."""
        return CONTENT_TYPES.get(self.extension, "application/octet-stream")

    def to_json(self) -> dict[str, Any]:
        """The form kept in the outbox row."""
        return {"source": str(self.source), "id": self.id, "name": self.name}

    @classmethod
    def from_json(cls, data: object) -> FileRef | None:
        """Read what `to_json` wrote (None for anything else)."""
        if not isinstance(data, dict):
            return None
        file_id = data.get("id")
        try:
            source = FileSource(str(data.get("source")))
        except ValueError:
            return None
        if not isinstance(file_id, int) or isinstance(file_id, bool):
            return None
        return cls(source, file_id, str(data.get("name") or f"{source}-{file_id}"))


def console_url(settings: Settings, path: str) -> str:
    """The secretary console's address of `path` (`/console/…`), for a link in the group
    where a platform cannot take the file itself: the configured public address when there
    is one (members' phones cannot reach 127.0.0.1), else the bot's own web server."""
    if settings.web.public_origins:
        return settings.web.public_origins[0] + path
    host = settings.web.host
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine answers locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web.port}{path}"

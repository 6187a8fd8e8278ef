"""Files for adapters whose platform takes them (DingTalk, WeCom's long connection).

An outbox row names a stored document (`FileRef`); the adapter reads its bytes here only
when it uploads them, and keeps the media id the platform gave, so a retry, or a restart
between upload and send, posts the document without uploading it again.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from bot.core.clock import Clock
from bot.core.files import FileRef
from storage.database import Database
from storage.files import file_content, forget_media, media_for, remember_media


class Files:
    """The stored documents and one platform's media ids for them."""

    def __init__(self, *, database: Database, clock: Clock, platform: str) -> None:
        self.database = database
        self.clock = clock
        self.platform = platform

    async def content(self, file: FileRef) -> bytes | None:
        """The document's bytes, or None when it no longer exists."""
        return await self.database.run(
            partial(file_content, source=str(file.source), file_id=file.id)
        )

    async def media(self, file: FileRef) -> str | None:
        """The media id the platform gave for this document, while it still holds it."""
        return await self.database.run(
            partial(media_for, platform=self.platform, file_key=file.key, now=self.clock.now())
        )

    async def remember(
        self, file: FileRef, media_id: str, *, lifetime: timedelta | None = None
    ) -> None:
        """Keep the media id of an upload (committed before the message that uses it is
        sent), for `lifetime` or as long as the platform keeps media."""
        now = self.clock.now()
        await self.database.run(
            partial(
                remember_media,
                platform=self.platform,
                file_key=file.key,
                media_id=media_id,
                now=now,
                expires_at=now + lifetime if lifetime is not None else None,
            )
        )

    async def forget(self, file: FileRef) -> None:
        """The platform refused the media id: the next try uploads again."""
        await self.database.run(partial(forget_media, platform=self.platform, file_key=file.key))

"""The local web chat: the embedded default platform, for trying the bot with no credentials.

Each browser tab is a member (name and role chosen on the page); messages go through the
same dispatcher as any platform, and the bot's replies come back over a websocket.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from bot.core.clock import Clock
from bot.core.dispatcher import Status
from bot.core.messages import IncomingMessage, OutgoingMessage, SendResult
from bot.core.roles import Role
from bot.core.text import format_time
from bot.delivery.link import PlatformLink

log = logging.getLogger(__name__)

PLATFORM = "local"
BOT_NAME = "协商助手"
HISTORY = 300
PAGE = Path(__file__).with_name("static") / "chat.html"
_MENTION = re.compile(rf"^\s*[@＠]{BOT_NAME}\s*")
_LIMITS = {"conversation": 64, "sender_id": 64, "sender_name": 32, "text": 5000, "id": 64}
# What the page calls each field, for the answer when one is too long.
_LABELS = {"conversation": "群名", "sender_id": "姓名", "sender_name": "显示名", "text": "消息"}


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One line in the local chat, as the page shows it."""

    conversation: str
    sender: str
    sender_id: str
    text: str
    time: str
    bot: bool
    mentions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The form the page reads."""
        return {
            "sender": self.sender,
            "sender_id": self.sender_id,
            "text": self.text,
            "time": self.time,
            "bot": self.bot,
            "mentions": list(self.mentions),
        }


class LocalAdapter:
    """Serves the chat page and its API on the bot's web server."""

    platform = PLATFORM

    def __init__(self, *, clock: Clock, zone: ZoneInfo, trust_roles: bool = True) -> None:
        self.clock = clock
        self.zone = zone
        self.trust_roles = trust_roles
        self._link: PlatformLink | None = None
        self._history: dict[str, deque[ChatEvent]] = {}
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}

    def install(self, app: web.Application) -> None:
        """Add the chat's routes to the web application."""
        app.router.add_get("/", self._page)
        app.router.add_get("/chat", self._page)
        app.router.add_get("/api/local/history", self._history_view)
        app.router.add_post("/api/local/messages", self._post_message)
        app.router.add_get("/api/local/ws", self._websocket)

    async def start(self, link: PlatformLink) -> None:
        """Take messages from the page from now on."""
        self._link = link

    async def stop(self) -> None:
        """Close the open chat tabs' sockets."""
        for sockets in self._sockets.values():
            for socket in list(sockets):
                await socket.close()

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Show a bot message to every tab of the conversation (a file shows its text: the
        local chat takes no files, and the text links to the console's copy)."""
        if not message.body:
            return SendResult.sent()  # an update of a card: the local chat has no cards
        await self._broadcast(
            ChatEvent(
                conversation=message.conversation_id,
                sender=BOT_NAME,
                sender_id="bot",
                text=message.body,
                time=self._now_text(),
                bot=True,
                mentions=message.mentions,
            )
        )
        return SendResult.sent()

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE)

    async def _history_view(self, request: web.Request) -> web.Response:
        conversation = request.query.get("conversation", "")
        events = self._history.get(conversation, deque())
        return web.json_response([event.to_json() for event in events])

    async def _post_message(self, request: web.Request) -> web.Response:
        if self._link is None:
            return web.json_response({"error": "协商助手还在启动，请稍后再试。"}, status=503)
        try:
            data = await request.json()
            fields = {key: str(data.get(key, "")).strip() for key in _LIMITS}
        except (json.JSONDecodeError, AttributeError):
            return web.json_response({"error": "请求格式不对。"}, status=400)
        for key, limit in _LIMITS.items():
            if len(fields[key]) > limit:
                label = _LABELS.get(key, "消息编号")
                return web.json_response({"error": f"{label}过长（最多 {limit} 字）。"}, status=400)
        if not (fields["conversation"] and fields["sender_id"] and fields["text"]):
            return web.json_response({"error": "请填写群名、姓名和消息。"}, status=400)
        role = Role.__members__.get(str(data.get("role", "member")).upper(), Role.MEMBER)
        text = fields["text"]
        addressed = bool(_MENTION.match(text)) or text.lstrip().startswith(("/", "／"))
        try:
            message = IncomingMessage(
                platform=PLATFORM,
                conversation_id=fields["conversation"],
                conversation_title=fields["conversation"],
                sender_id=fields["sender_id"],
                sender_name=fields["sender_name"] or fields["sender_id"],
                text=_MENTION.sub("", text),
                # The page sends its own id, so a retried request is recognised as a duplicate.
                message_id=fields["id"] or uuid.uuid4().hex,
                timestamp=self.clock.now(),
                addressed=addressed,
                platform_roles=frozenset({role} if self.trust_roles else ()),
            )
        except ValueError:  # a name or group of nothing but invisible characters
            return web.json_response({"error": "请填写群名、姓名和消息。"}, status=400)
        try:
            outcome = await self._link.dispatch(message)
        except Exception:
            log.exception("local message not committed")
            return web.json_response({"error": "暂时无法保存，请稍后重试。"}, status=503)
        if outcome.status is not Status.DUPLICATE:
            await self._broadcast(
                ChatEvent(
                    conversation=message.conversation_id,
                    sender=message.sender_name,
                    sender_id=message.sender_id,
                    text=text,
                    time=self._now_text(),
                    bot=False,
                )
            )
        return web.json_response({"status": outcome.status})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        conversation = request.query.get("conversation", "")[: _LIMITS["conversation"]]
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        sockets = self._sockets.setdefault(conversation, set())
        sockets.add(socket)
        try:
            async for frame in socket:
                if frame.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            sockets.discard(socket)
        return socket

    async def _broadcast(self, event: ChatEvent) -> None:
        history = self._history.setdefault(event.conversation, deque(maxlen=HISTORY))
        history.append(event)
        payload = json.dumps(event.to_json(), ensure_ascii=False)
        for socket in list(self._sockets.get(event.conversation, ())):
            try:
                await socket.send_str(payload)
            except ConnectionError:
                self._sockets[event.conversation].discard(socket)

    def _now_text(self) -> str:
        return format_time(self.clock.now(), self.zone)

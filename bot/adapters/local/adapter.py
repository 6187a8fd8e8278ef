"""The local web chat: the embedded default platform, for trying the bot with no credentials.

Each browser tab is a member (name and role chosen on the page, kept per tab); messages go
through the same dispatcher as any platform, and the bot's replies come back over a
websocket. The history a tab shows is read from the database (delivery's ChatHistory), so
a tab that reconnects after a restart of the bot shows the whole conversation again.
Only this machine's pages may use it (see `_refusal`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from bot.core.clock import Clock
from bot.core.dispatcher import Status
from bot.core.messages import (
    IncomingMessage,
    Kind,
    Mention,
    OutgoingMessage,
    SendResult,
    mentioned_names,
)
from bot.core.roles import Role
from bot.core.text import format_time
from bot.delivery.history import ChatHistory, ChatLine, inbound_key, outbound_key
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
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
JSON = "application/json"

FOREIGN_HOST = "拒绝访问：请求的地址（Host）不是本地群聊的地址。"
FOREIGN_ORIGIN = "拒绝访问：这个请求来自其他网站，不能在本地群聊发言。"
NOT_JSON = "请求格式不对：消息须以 JSON（application/json）发送。"


def own_hosts(bound: str) -> frozenset[str]:
    """The names the chat answers to: this machine's loopback names and the address it
    listens on (web.host)."""
    host = bound.strip().strip("[]").lower()
    return LOOPBACK if host in WILDCARDS else LOOPBACK | {host}


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One line in the local chat, as the page shows it."""

    # The same for the live message and for its line in the history (see ChatLine.key).
    key: str
    sender: str
    sender_id: str
    text: str
    time: str
    bot: bool
    mentions: tuple[str, ...] = ()
    # A bot message in Markdown (the minutes, a letter), rendered to HTML for the page.
    markdown: bool = False

    def to_json(self) -> dict[str, Any]:
        """The form the page reads."""
        data: dict[str, Any] = {
            "id": self.key,
            "sender": self.sender,
            "sender_id": self.sender_id,
            "text": self.text,
            "time": self.time,
            "bot": self.bot,
            "mentions": list(self.mentions),
        }
        if self.markdown:
            data["html"] = markdown_html(self.text)
        return data


@cache
def _renderer() -> Any:
    # Imported on first use: only a Markdown message needs it, and start-up is measured.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image")


def markdown_html(text: str) -> str:
    """The bot's Markdown as HTML for the page. Raw HTML in it is escaped, never passed
    through (html=False), and member text in the minutes and letters is escaped before it
    gets there: member text stays text."""
    return str(_renderer().render(text))


class LocalAdapter:
    """Serves the chat page and its API on the bot's web server."""

    platform = PLATFORM

    def __init__(
        self,
        *,
        clock: Clock,
        zone: ZoneInfo,
        trust_roles: bool = True,
        hosts: frozenset[str] = LOOPBACK,
    ) -> None:
        self.clock = clock
        self.zone = zone
        self.trust_roles = trust_roles
        self.hosts = hosts
        self._link: PlatformLink | None = None
        self._history: ChatHistory | None = None
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
        self._history = link.history(PLATFORM)

    async def stop(self) -> None:
        """Close the open chat tabs' sockets (the pages reconnect once the bot is back)."""
        for sockets in self._sockets.values():
            for socket in list(sockets):
                await socket.close()

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Show a bot message to every tab of the conversation (a file shows its text: the
        local chat takes no files, and the text links to the console's copy)."""
        if not message.body:
            return SendResult.sent()  # an update of a card: the local chat has no cards
        await self._broadcast(
            message.conversation_id,
            ChatEvent(
                key=outbound_key(message),
                sender=BOT_NAME,
                sender_id="bot",
                text=message.body,
                time=self._time_text(),
                bot=True,
                mentions=message.mentions,
                markdown=message.kind is Kind.MARKDOWN,
            ),
        )
        return SendResult.sent()

    async def _page(self, request: web.Request) -> web.StreamResponse:
        if refused := self._refusal(request):
            return refused
        return web.FileResponse(PAGE)

    async def _history_view(self, request: web.Request) -> web.Response:
        """The conversation's last messages, from the database: they outlive a restart."""
        if refused := self._refusal(request):
            return refused
        if self._history is None:
            return web.json_response({"error": "协商助手还在启动，请稍后再试。"}, status=503)
        conversation = request.query.get("conversation", "")[: _LIMITS["conversation"]]
        lines = await self._history.read(conversation, limit=HISTORY)
        return web.json_response([self._event(line).to_json() for line in lines])

    async def _post_message(self, request: web.Request) -> web.Response:
        if refused := self._refusal(request, body=True):
            return refused
        if self._link is None:
            return web.json_response({"error": "协商助手还在启动，请稍后再试。"}, status=503)
        try:
            data = await request.json()
            fields = {key: str(data.get(key, "")).strip() for key in _LIMITS}
        except (ValueError, AttributeError, RecursionError):
            # Not JSON, not an object, not UTF-8, or nested deeper than the parser goes.
            return web.json_response({"error": "请求格式不对。"}, status=400)
        for key, limit in _LIMITS.items():
            if len(fields[key]) > limit:
                label = _LABELS.get(key, "消息编号")
                return web.json_response({"error": f"{label}过长（最多 {limit} 字）。"}, status=400)
        if not (fields["conversation"] and fields["sender_id"] and fields["text"]):
            return web.json_response({"error": "请填写群名、姓名和消息。"}, status=400)
        role = Role.__members__.get(str(data.get("role", "member")).upper(), Role.MEMBER)
        text = fields["text"]
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
                # The local chat is a chat with the bot: everything typed there is addressed
                # to it, as an @ would be in a group (so `投 1` works without the slash).
                addressed=True,
                platform_roles=frozenset({role} if self.trust_roles else ()),
                # In the local chat a member's id is the name they chose for their tab.
                mentions=tuple(
                    Mention(user_id=name, name=name)
                    for name in mentioned_names(_MENTION.sub("", text))
                ),
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
                message.conversation_id,
                ChatEvent(
                    key=inbound_key(message.message_id),
                    sender=message.sender_name,
                    sender_id=message.sender_id,
                    text=message.text,
                    time=self._time_text(),
                    bot=False,
                ),
            )
        return web.json_response({"status": outcome.status})

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if refused := self._refusal(request):
            return refused
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

    def _refusal(self, request: web.Request, *, body: bool = False) -> web.Response | None:
        """Why a request may not use the chat, as the answer to send; None when it may.

        The chat is for this machine: a request must name one of its own addresses (a site
        whose name points at 127.0.0.1 could otherwise read and post as a tab: DNS
        rebinding), come from the chat's own page when a browser says where it comes from
        (another site's page could otherwise post, or open the websocket, with nothing
        stopping it), and carry JSON, which no other site can send without asking first.
        """
        host = _hostname(request.host)
        if host is None or not self._own(host):
            return web.json_response({"error": FOREIGN_HOST}, status=403)
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
            return web.json_response({"error": FOREIGN_ORIGIN}, status=403)
        if body and request.content_type != JSON:
            return web.json_response({"error": NOT_JSON}, status=415)
        return None

    def _own(self, host: str) -> bool:
        if host in self.hosts:
            return True
        if not self.hosts - LOOPBACK:  # listening on every address: any address, no name
            try:
                ip_address(host)
            except ValueError:
                return False
            return True
        return False

    def _event(self, line: ChatLine) -> ChatEvent:
        return ChatEvent(
            key=line.key,
            sender=BOT_NAME if line.bot else line.sender_name,
            sender_id=line.sender_id,
            text=line.text,
            time=format_time(line.at, self.zone),
            bot=line.bot,
            mentions=line.mentions,
            markdown=line.kind is Kind.MARKDOWN,
        )

    async def _broadcast(self, conversation: str, event: ChatEvent) -> None:
        payload = json.dumps(event.to_json(), ensure_ascii=False)
        for socket in list(self._sockets.get(conversation, ())):
            try:
                await socket.send_str(payload)
            except ConnectionError:
                self._sockets[conversation].discard(socket)

    def _time_text(self) -> str:
        return format_time(self.clock.now(), self.zone)


def _hostname(host: str) -> str | None:
    """The name in a Host header (`127.0.0.1:8080`, `[::1]:8080`), lower-cased."""
    try:
        return urlsplit("//" + host).hostname
    except ValueError:
        return None

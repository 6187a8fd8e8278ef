"""WeCom (企业微信) 智能机器人: the bot in WeCom groups and single chats, with vote cards.

Two ways in, one per deployment (see docs/wecom.md):
- `WeComLongConnection`: the bot dials WeCom's websocket and speaks its JSON frames
  (aibot_subscribe, ping, aibot_msg_callback, aibot_event_callback, aibot_respond_msg,
  aibot_respond_welcome_msg, aibot_respond_update_msg, aibot_send_msg, and the chunked
  upload aibot_upload_media_init/_chunk/_finish). No public address is needed, and it is
  the only mode in which the bot may post on its own (a poll closed by its deadline) or
  post files (the minutes' DOCX; the media id is kept three days, through delivery).
- `WeComCallback`: WeCom posts encrypted JSON to an endpoint on the bot's web server; the
  bot answers passively (a card update, a welcome) or later through the one-shot
  `response_url`, which takes no files: a file goes as its text, a link to the console.

A member who opens a chat with the bot (enter_chat) is welcomed at once, in answer to the
event: WeCom takes a welcome only within 5 seconds of it. A markdown or stream message holds
at most 20,480 bytes: the adapter tells the outbox what fits (`fits`), and the outbox sends a
longer reply in parts.

The frames are spoken here over aiohttp rather than through the community
`wecom-aibot-sdk` (a one-person port of WeCom's Node SDK, not WeCom's own): it brings
`websockets` and `httpx` beside our one aiohttp session, runs handlers as fire-and-forget
tasks whose failures it only logs, and hides the frame we need to answer a card click
within WeCom's 5 s. The protocol is a handful of JSON frames, documented by WeCom.

A message is handed to the dispatcher and answered only after it committed. The long
connection has no receipt to withhold, so a message whose transaction failed is retried
in-process and, failing that, the member is told it was not saved. Reading what WeCom sends
is wire.py; laying out cards and text is render.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import WSMsgType, web
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity import wait_exponential_jitter as exponential_wait

from bot.adapters.wecom.crypto import WeComCrypto, WeComCryptoError
from bot.adapters.wecom.render import fits, message_body, stance_card, vote_card
from bot.adapters.wecom.wire import (
    ENTER_CHAT,
    KICKED_OUT,
    PLATFORM,
    CardSubmit,
    card_click,
    card_submit,
    event_type,
    incoming_message,
    sender_of,
)
from bot.core.clock import Clock
from bot.core.dispatcher import Status
from bot.core.files import FileRef
from bot.core.messages import IncomingMessage, Kind, OutgoingMessage, ReplyRoute, SendResult
from bot.core.secrets import env_secret
from bot.core.settings import WeComSettings
from bot.core.views import Deal, StanceView
from bot.core.welcome import WELCOME
from bot.delivery.files import Files
from bot.delivery.link import PlatformLink

log = logging.getLogger(__name__)

BOT_ID_ENV = "WECOM_BOT_ID"
BOT_SECRET_ENV = "WECOM_BOT_SECRET"
TOKEN_ENV = "WECOM_TOKEN"
AES_KEY_ENV = "WECOM_ENCODING_AES_KEY"

SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MESSAGE_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
RESPOND_UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"

# WeCom's chunked upload: at most 100 chunks of 512 KB (before base64), chunk_index from 0
# as WeCom's own SDK sends it.
CHUNK_BYTES = 512 * 1024
MAX_CHUNKS = 100
# An upload's media id works for three days; kept a little less, so it is not used late.
MEDIA_LIFETIME = timedelta(days=3) - timedelta(hours=1)
# Answers to an upload that mean "try again later": busy, over the call rate.
UPLOAD_TRANSIENT = frozenset({-1, 45009})
# A media id WeCom does not know (expired sooner than kept, or another bot's).
INVALID_MEDIA = 40007

RECEIPT_TIMEOUT = 5.0
NOT_SAVED = "暂时无法保存，请稍后重新发送。"
CARD_NOT_SAVED = "暂时无法保存，请重新提交。"
_FRAME_LIMIT = 4 * 1024 * 1024
_CALLBACK_LIMIT = 1024 * 1024


# ---- shared machinery ------------------------------------------------------------------


class ReplyHandles:
    """Per conversation, the one-shot ways to answer that are still fresh (the req_id of a
    long-connection message, the response_url of a callback), newest first.

    A folded reply to many members can use any one of them; each is used once.
    """

    PER_CONVERSATION = 200

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._fresh: dict[str, OrderedDict[str, datetime]] = {}

    def offer(self, conversation: str, handle: str, at: datetime) -> None:
        """Remember a way to answer in `conversation`, received `at`."""
        pool = self._fresh.setdefault(conversation, OrderedDict())
        pool[handle] = at
        while len(pool) > self.PER_CONVERSATION:
            pool.popitem(last=False)

    def take(self, conversation: str, preferred: str | None, now: datetime) -> str | None:
        """A fresh unused handle: `preferred` if it still is one, else the newest."""
        pool = self._fresh.get(conversation)
        if not pool:
            return None
        for handle, at in list(pool.items()):
            if now - at >= self.window:
                del pool[handle]
        if preferred is not None and preferred in pool:
            del pool[preferred]
            return preferred
        if pool:
            return pool.popitem(last=True)[0]
        return None

    def give_back(self, conversation: str, handle: str, at: datetime) -> None:
        """A handle that was taken but not used (the send never left)."""
        self.offer(conversation, handle, at)


class _WeComAdapter:
    """What both modes share: turning callbacks into messages and card clicks into ballots."""

    platform = PLATFORM

    def __init__(self, *, settings: WeComSettings, clock: Clock, zone: ZoneInfo) -> None:
        self.settings = settings
        self.clock = clock
        self.zone = zone
        self.handles = ReplyHandles(timedelta(seconds=settings.reply_window_seconds))
        self._link: PlatformLink | None = None
        self._files: Files | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _open(self, link: PlatformLink) -> None:
        self._link = link
        self._files = link.files(PLATFORM)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    def fits(self, message: OutgoingMessage) -> bool:
        """Whether the message fits one WeCom message (the outbox sends longer ones in
        parts)."""
        return fits(message, vote_cards=self.settings.vote_cards)

    @property
    def files(self) -> Files:
        """The documents to post as files and WeCom's media ids for them, once started."""
        if self._files is None:
            raise RuntimeError("the WeCom adapter has not been started")
        return self._files

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad frame must not stop the others
                log.exception("wecom: handling a callback failed")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def link(self) -> PlatformLink:
        """The bot, once started."""
        if self._link is None:
            raise RuntimeError("the WeCom adapter has not been started")
        return self._link

    def _message(self, body: Mapping[str, Any], address: str) -> IncomingMessage | None:
        route = ReplyRoute(address=address) if address else None
        return incoming_message(
            body, bot_name=self.settings.bot_name, clock=self.clock, route=route
        )

    async def _answer_click(
        self, submit: CardSubmit, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Hand a card submit to the card's feature as the member's action and return their
        updated card (None when there is nothing to show)."""
        message = card_click(submit, body, self.clock)
        if message is None:
            return None
        chosen: tuple[int, ...] = ()
        deal: Deal | None = None
        try:
            outcome = await self.link.dispatch(message)
        except Exception:
            log.exception("wecom: card submit %s not committed", message.message_id)
            note = CARD_NOT_SAVED
        else:
            note = outcome.replies[0] if outcome.replies else ""
            if outcome.answer is not None:
                chosen = outcome.answer.chosen
                deal = outcome.answer.deal
            elif outcome.status is Status.DUPLICATE:
                chosen = tuple(int(option) for option in submit.options if option.isdigit())
        view = await self.link.views.read(submit.card_key)
        if view is None:
            return None
        if isinstance(view, StanceView):
            return stance_card(view, task_id=submit.task_id, deal=deal, note=note)
        return vote_card(view, task_id=submit.task_id, chosen=chosen, note=note)


# ---- long connection -------------------------------------------------------------------


WELCOME_BODY = {"msgtype": "text", "text": {"content": WELCOME}}


class SubscribeRefused(Exception):
    """WeCom refused the bot id and secret."""


class UploadRefused(Exception):
    """WeCom answered an upload frame with an error."""

    def __init__(self, errcode: object, errmsg: object) -> None:
        super().__init__(f"upload errcode {errcode}: {errmsg}")
        self.transient = errcode in UPLOAD_TRANSIENT


class NotConnected(Exception):
    """No authenticated connection to send on."""


class WeComLongConnection(_WeComAdapter):
    """The bot on WeCom's websocket: subscribes, pings, takes callbacks, answers, posts."""

    def __init__(
        self,
        *,
        bot_id: str,
        secret: str,
        settings: WeComSettings,
        clock: Clock,
        zone: ZoneInfo,
        reconnect_base_seconds: float = 1.0,
    ) -> None:
        super().__init__(settings=settings, clock=clock, zone=zone)
        self.bot_id = bot_id
        self._secret = secret
        self.reconnect_base_seconds = reconnect_base_seconds
        self.connected = asyncio.Event()
        self.kicked_out = False
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._receipts: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: asyncio.Task[None] | None = None

    def __repr__(self) -> str:  # never show the secret
        return f"WeComLongConnection(bot_id={self.bot_id!r})"

    async def start(self, link: PlatformLink) -> None:
        """Connect in the background; messages flow once WeCom accepted the subscription."""
        await self._open(link)
        self._runner = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping.set()
        if self._tasks:  # let the messages and clicks under way be answered first
            await asyncio.wait(set(self._tasks), timeout=RECEIPT_TIMEOUT)
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        await self._close()

    async def _run(self) -> None:
        # A supervisor rather than tenacity: a connection that lived resets the backoff,
        # and a kick-out or stop() must end the loop at once, not after the next attempt.
        attempt = 0
        while not self._stopping.is_set() and not self.kicked_out:
            try:
                lived = await self._connect_once()
            except (aiohttp.ClientError, OSError, TimeoutError, SubscribeRefused) as error:
                log.warning("wecom: connection failed: %s", error)
                lived = False
            if self._stopping.is_set() or self.kicked_out:
                break
            attempt = 1 if lived else attempt + 1
            delay = min(
                self.settings.reconnect_max_seconds,
                self.reconnect_base_seconds * 2 ** (attempt - 1),
            )
            delay *= 0.8 + 0.4 * secrets.randbelow(1000) / 1000
            log.info("wecom: reconnecting in %.1fs (attempt %d)", delay, attempt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _connect_once(self) -> bool:
        """One connection from dial to close; True if it was authenticated."""
        assert self._session is not None
        async with self._session.ws_connect(
            self.settings.websocket_url, heartbeat=None, max_msg_size=_FRAME_LIMIT
        ) as ws:
            self._ws = ws
            try:
                await self._subscribe(ws)
                self.connected.set()
                log.info("wecom: connected as bot %s", self.bot_id)
                pinger = asyncio.create_task(self._ping(ws))
                try:
                    await self._read(ws)
                finally:
                    pinger.cancel()
                return True
            finally:
                self.connected.clear()
                self._ws = None
                for waiting in self._receipts.values():
                    if not waiting.done():
                        waiting.set_exception(NotConnected("connection closed"))
                self._receipts.clear()

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        req_id = f"{SUBSCRIBE}_{secrets.token_hex(8)}"
        await ws.send_json(
            {
                "cmd": SUBSCRIBE,
                "headers": {"req_id": req_id},
                "body": {"bot_id": self.bot_id, "secret": self._secret},
            }
        )
        async with asyncio.timeout(RECEIPT_TIMEOUT * 2):
            async for raw in ws:
                if raw.type != WSMsgType.TEXT:
                    break
                frame = _json(raw.data)
                if frame.get("headers", {}).get("req_id") != req_id:
                    continue
                if frame.get("errcode") != 0:
                    raise SubscribeRefused(f"errcode {frame.get('errcode')}: {frame.get('errmsg')}")
                return
        raise SubscribeRefused("connection closed before the subscription was answered")

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        missed = 0
        while not ws.closed:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                await self._request(PING, f"{PING}_{secrets.token_hex(8)}", None)
                missed = 0
            except (NotConnected, TimeoutError, ConnectionError):
                missed += 1
                if missed >= 2:  # WeCom stopped answering: drop the line and reconnect
                    log.warning("wecom: two pings unanswered, reconnecting")
                    await ws.close()
                    return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for raw in ws:
            if raw.type != WSMsgType.TEXT:
                if raw.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.ERROR):
                    break
                continue
            frame = _json(raw.data)
            cmd = frame.get("cmd")
            headers = frame.get("headers")
            req_id = str(headers.get("req_id", "")) if isinstance(headers, Mapping) else ""
            body = frame.get("body")
            if not cmd:
                waiting = self._receipts.pop(req_id, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(frame)
            elif not isinstance(body, Mapping):
                log.warning("wecom: %s frame without a body", cmd)
            elif cmd == MESSAGE_CALLBACK:
                self._spawn(self._take_message(req_id, body))
            elif cmd == EVENT_CALLBACK and event_type(body) == ENTER_CHAT:
                self._spawn(self._welcome(req_id))
            elif cmd == EVENT_CALLBACK and event_type(body) == KICKED_OUT:
                # Another process subscribed with this bot id; fighting back would only
                # kick it out in turn, so this one stands down.
                log.error("wecom: another connection took over this bot; this one stops")
                self.kicked_out = True
                await ws.close()
                return
            elif cmd == EVENT_CALLBACK:
                submit = card_submit(body)
                if submit is not None:
                    self._spawn(self._take_card(req_id, submit, body))

    async def _take_message(self, req_id: str, body: Mapping[str, Any]) -> None:
        message = self._message(body, req_id)
        if message is None:
            return
        self.handles.offer(message.conversation_id, req_id, self.clock.now())
        try:
            # WeCom does not deliver a frame twice, so a failed commit is retried here.
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(5),
                wait=exponential_wait(initial=1, max=15),
                retry=retry_if_exception_type(Exception),
                reraise=True,
            ):
                with attempt:
                    await self.link.dispatch(message)
        except Exception:
            log.exception("wecom: message %s not committed; telling the member", message.message_id)
            with contextlib.suppress(Exception):
                await self.send(
                    OutgoingMessage(
                        platform=PLATFORM,
                        conversation_id=message.conversation_id,
                        kind=Kind.TEXT,
                        body=NOT_SAVED,
                        route=ReplyRoute(address=req_id),
                    )
                )

    async def _welcome(self, req_id: str) -> None:
        """Welcome a member who opened a chat, in answer to the event (within its 5 s)."""
        try:
            receipt = await self._request(RESPOND_WELCOME, req_id, WELCOME_BODY)
        except (NotConnected, ConnectionError, TimeoutError) as error:
            log.warning("wecom: welcome not delivered: %s", error)
            return
        if receipt.get("errcode") != 0:
            log.warning("wecom: welcome refused: %s", receipt.get("errmsg"))

    async def _take_card(self, req_id: str, submit: CardSubmit, body: Mapping[str, Any]) -> None:
        card = await self._answer_click(submit, body)
        if card is None:
            return
        update = {"response_type": "update_template_card", "userids": [sender_of(body)]}
        try:
            receipt = await self._request(RESPOND_UPDATE, req_id, update | {"template_card": card})
        except (NotConnected, ConnectionError, TimeoutError) as error:
            # The ballot is committed; only this refresh of the member's card is lost.
            log.warning("wecom: card update for %s not delivered: %s", sender_of(body), error)
            return
        if receipt.get("errcode") != 0:
            log.warning("wecom: card update refused: %s", receipt.get("errmsg"))

    async def _request(
        self, cmd: str, req_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Send a frame and wait for WeCom's receipt of it."""
        ws = self._ws
        if ws is None or ws.closed or not self.connected.is_set():
            raise NotConnected("not connected to WeCom")
        receipt: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._receipts[req_id] = receipt
        frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        try:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
            async with asyncio.timeout(RECEIPT_TIMEOUT):
                return await receipt
        finally:
            self._receipts.pop(req_id, None)

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Answer through a fresh message's req_id, or post on the bot's own (aibot_send_msg)."""
        if message.kind is Kind.CARD_UPDATE:
            # WeCom updates a card only in answer to a click on it; each clicker's card is
            # refreshed then, with the tally of that moment.
            return SendResult.sent()
        if not self.connected.is_set():
            return SendResult.retry("未连接企业微信", after=2)
        if message.kind is Kind.FILE and message.file is not None:
            return await self._send_file(message, message.file)
        vote_cards, stance_cards = self.settings.vote_cards, self.settings.stance_cards
        return await self._post(
            message,
            reply=message_body(
                message, vote_cards=vote_cards, stance_cards=stance_cards, replying=True
            ),
            post=message_body(message, vote_cards=vote_cards, stance_cards=stance_cards),
        )

    async def _send_file(self, message: OutgoingMessage, file: FileRef) -> SendResult:
        """Post a stored document as a file: its media id if WeCom still has it, else upload
        it first (and keep the id before posting, so a restart does not upload it twice)."""
        media = await self.files.media(file)
        uploaded_now = media is None
        if media is None:
            content = await self.files.content(file)
            if content is None:
                log.error("wecom: the document %s to post is gone; sending its link", file.key)
                return await self.send(replace(message, kind=Kind.TEXT, file=None))
            try:
                media = await self._upload(file, content)
            except UploadRefused as error:
                if error.transient:
                    return SendResult.retry(str(error))
                log.error("wecom: upload of %s refused (%s); sending its link", file.key, error)
                return await self.send(replace(message, kind=Kind.TEXT, file=None))
            except (NotConnected, ConnectionError) as error:
                return SendResult.retry(str(error), after=2)
            except TimeoutError:
                return SendResult.retry("企业微信未回执上传")
            await self.files.remember(file, media, lifetime=MEDIA_LIFETIME)
        content_body = {"msgtype": "file", "file": {"media_id": media}}
        result = await self._post(message, reply=content_body, post=content_body)
        refused_media = result.error.startswith(f"errcode {INVALID_MEDIA}")
        if not result.ok and not uploaded_now and refused_media:
            await self.files.forget(file)  # kept longer than WeCom kept it: upload again
        return result

    async def _upload(self, file: FileRef, content: bytes) -> str:
        """Upload a document in chunks (init, chunk × N, finish); its media id."""
        chunks = [content[at : at + CHUNK_BYTES] for at in range(0, len(content), CHUNK_BYTES)]
        if not chunks or len(chunks) > MAX_CHUNKS:
            raise UploadRefused("size", f"{len(content)} 字节，超出企业微信上传限制")
        init = await self._upload_frame(
            UPLOAD_INIT,
            {
                "type": "file",
                "filename": file.name,
                "total_size": len(content),
                "total_chunks": len(chunks),
                # WeCom checks the whole file against it; not for security.
                "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
            },
        )
        upload_id = str(init.get("upload_id") or "")
        if not upload_id:
            raise UploadRefused("init", "没有返回 upload_id")
        # One chunk at a time: WeCom's own SDK learned that many at once get "system error".
        for index, chunk in enumerate(chunks):
            await self._upload_frame(
                UPLOAD_CHUNK,
                {
                    "upload_id": upload_id,
                    "chunk_index": index,
                    "base64_data": base64.b64encode(chunk).decode(),
                },
            )
        finished = await self._upload_frame(UPLOAD_FINISH, {"upload_id": upload_id})
        media_id = str(finished.get("media_id") or "")
        if not media_id:
            raise UploadRefused("finish", "没有返回 media_id")
        return media_id

    async def _upload_frame(self, cmd: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """One upload frame and the body of WeCom's receipt."""
        receipt = await self._request(cmd, f"{cmd}_{secrets.token_hex(8)}", body)
        if receipt.get("errcode") != 0:
            raise UploadRefused(receipt.get("errcode"), receipt.get("errmsg", ""))
        answer = receipt.get("body")
        return answer if isinstance(answer, Mapping) else {}

    async def _post(
        self, message: OutgoingMessage, *, reply: Mapping[str, Any], post: Mapping[str, Any]
    ) -> SendResult:
        """Send `reply` through a fresh req_id of the conversation, or `post` on the bot's
        own when none is left."""
        now = self.clock.now()
        handle = self.handles.take(
            message.conversation_id, message.route.address if message.route else None, now
        )
        if handle is not None:
            cmd, req_id, body = RESPOND, handle, dict(reply)
        else:
            cmd, req_id = SEND, f"{SEND}_{secrets.token_hex(8)}"
            body = {"chatid": message.conversation_id} | dict(post)
        try:
            receipt = await self._request(cmd, req_id, body)
        except (NotConnected, ConnectionError) as error:
            if handle is not None:
                self.handles.give_back(message.conversation_id, handle, now)
            return SendResult.retry(str(error), after=2)
        except TimeoutError:
            return SendResult.retry("企业微信未回执")
        if receipt.get("errcode") == 0:
            return SendResult.sent()
        return SendResult.retry(f"errcode {receipt.get('errcode')}: {receipt.get('errmsg', '')}")


def _json(data: Any) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


# ---- callback mode ---------------------------------------------------------------------


class CallbackRefused(Exception):
    """A callback that fails a check; nothing of it is kept."""


class WeComCallback(_WeComAdapter):
    """The bot behind an HTTPS endpoint WeCom posts encrypted callbacks to."""

    def __init__(
        self,
        *,
        token: str,
        encoding_aes_key: str,
        settings: WeComSettings,
        clock: Clock,
        zone: ZoneInfo,
        receive_id: str = "",
    ) -> None:
        super().__init__(settings=settings, clock=clock, zone=zone)
        self.crypto = WeComCrypto(token, encoding_aes_key, receive_id)

    def __repr__(self) -> str:  # never show the token or key
        return f"WeComCallback(path={self.settings.callback_path!r})"

    def install(self, app: web.Application) -> None:
        """Add the callback endpoint to the bot's web server."""
        app.router.add_get(self.settings.callback_path, self._verify_url)
        app.router.add_post(self.settings.callback_path, self._callback)

    async def start(self, link: PlatformLink) -> None:
        """Take callbacks from now on."""
        await self._open(link)

    async def stop(self) -> None:
        """Stop sending; the endpoint goes with the web server."""
        await self._close()

    def _checked(self, query: Mapping[str, str], encrypted: str) -> str:
        """The plaintext of a callback that passes every check, or CallbackRefused."""
        timestamp = query.get("timestamp", "")
        # isdigit() alone takes `²` and any number of digits, which int() then refuses.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise CallbackRefused("缺少时间戳")
        skew = abs(self.clock.now().timestamp() - int(timestamp))
        if skew > self.settings.max_clock_skew_seconds:
            raise CallbackRefused("时间戳过期")
        try:
            self.crypto.verify(
                query.get("msg_signature", ""), timestamp, query.get("nonce", ""), encrypted
            )
            return self.crypto.decrypt(encrypted)
        except WeComCryptoError as error:
            raise CallbackRefused(str(error)) from error

    async def _verify_url(self, request: web.Request) -> web.Response:
        try:
            plain = self._checked(request.query, request.query.get("echostr", ""))
        except CallbackRefused as error:
            log.warning("wecom: URL verification refused: %s", error)
            return web.Response(status=403, text="校验失败")
        return web.Response(text=plain.strip())

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        if self._link is None:
            return web.Response(status=503, text="协商助手还在启动")
        if (request.content_length or 0) > _CALLBACK_LIMIT:
            return web.Response(status=413)
        try:
            envelope = await request.json()
            encrypted = str(envelope["encrypt"])
            body = json.loads(self._checked(request.query, encrypted))
            if not isinstance(body, dict):
                raise CallbackRefused("明文不是 JSON 对象")
        except CallbackRefused as error:
            log.warning("wecom: callback refused: %s", error)
            return web.Response(status=403, text="校验失败")
        except (ValueError, KeyError, TypeError, RecursionError):
            # RecursionError: JSON nested deeper than the parser goes.
            return web.Response(status=400, text="格式不对")
        if body.get("msgtype") == "event" and event_type(body) == ENTER_CHAT:
            return self._passive(request, WELCOME_BODY)  # the welcome, within WeCom's 5 s
        if body.get("msgtype") == "event":
            submit = card_submit(body)
            if submit is None:
                return web.Response(text="")
            card = await self._answer_click(submit, body)
            if card is None:
                return web.Response(text="")
            update = {"response_type": "update_template_card", "userids": [sender_of(body)]}
            return self._passive(request, update | {"template_card": card})
        if body.get("msgtype") == "stream":
            return web.Response(text="")  # a refresh of a stream the bot never opens
        response_url = str(body.get("response_url", ""))
        allowed = self._allowed(response_url)
        message = self._message(body, response_url if allowed else "")
        if message is None:
            return web.Response(text="")
        if allowed:
            self.handles.offer(message.conversation_id, response_url, self.clock.now())
        try:
            await self.link.dispatch(message)
        except Exception:
            log.exception("wecom: callback %s not committed", message.message_id)
            return web.Response(status=503, text="稍后重试")  # WeCom delivers it again
        return web.Response(text="")

    def _passive(self, request: web.Request, reply: Mapping[str, Any]) -> web.Response:
        timestamp = str(int(self.clock.now().timestamp()))
        nonce = request.query.get("nonce", "") or secrets.token_hex(8)
        envelope = self.crypto.encrypted_reply(
            json.dumps(reply, ensure_ascii=False), timestamp=timestamp, nonce=nonce
        )
        return web.json_response(envelope)

    def _allowed(self, url: str) -> bool:
        """A response_url is followed only to WeCom's own host (config can add test hosts)."""
        if not url:
            return False
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self.settings.response_url_origins:
            return True
        log.warning("wecom: response_url to %s refused", origin)
        return False

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Answer through a fresh response_url of the conversation (each is one-shot)."""
        if message.kind is Kind.CARD_UPDATE:
            return SendResult.sent()  # cards change only in answer to a click
        assert self._session is not None
        handle = self.handles.take(
            message.conversation_id,
            message.route.address if message.route else None,
            self.clock.now(),
        )
        if handle is None:
            # Callback mode cannot post on its own: wait for the next message to the bot.
            return SendResult.retry("没有可用的 response_url，等成员下次 @机器人", after=60)
        try:
            # The response_url takes no files: a file goes as its text (a link to the console).
            body = message_body(
                message,
                vote_cards=self.settings.vote_cards,
                stance_cards=self.settings.stance_cards,
            )
            async with self._session.post(handle, json=body) as response:
                result = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return SendResult.retry(f"response_url: {type(error).__name__}")
        if isinstance(result, Mapping) and result.get("errcode") == 0:
            return SendResult.sent()
        code = result.get("errcode") if isinstance(result, Mapping) else "?"
        return SendResult.retry(f"response_url errcode {code}")


# ---- wiring ------------------------------------------------------------------------------


def wecom_from_environment(
    settings: WeComSettings, *, clock: Clock, zone: ZoneInfo
) -> WeComLongConnection | WeComCallback | None:
    """The adapter whose credentials are in the environment (None when neither is)."""
    bot_id, secret = env_secret(BOT_ID_ENV), env_secret(BOT_SECRET_ENV)
    token, aes_key = env_secret(TOKEN_ENV), env_secret(AES_KEY_ENV)
    long_ok = bool(bot_id and secret)
    callback_ok = bool(token and aes_key)
    mode = settings.mode
    if mode == "auto":
        mode = "long_connection" if long_ok else "callback" if callback_ok else "auto"
    if mode == "long_connection":
        if not (bot_id and secret):
            raise RuntimeError(f"WeCom long connection needs {BOT_ID_ENV} and {BOT_SECRET_ENV}")
        return WeComLongConnection(
            bot_id=bot_id, secret=secret, settings=settings, clock=clock, zone=zone
        )
    if mode == "callback":
        if not (token and aes_key):
            raise RuntimeError(f"WeCom callback mode needs {TOKEN_ENV} and {AES_KEY_ENV}")
        return WeComCallback(
            token=token, encoding_aes_key=aes_key, settings=settings, clock=clock, zone=zone
        )
    return None

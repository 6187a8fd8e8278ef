"""DingTalk in Stream mode, with the official `dingtalk-stream` SDK (the only importer of it).

Receiving: the SDK's frames, handlers and ACKs, over a connection loop of our own. The
SDK's `start()` waits 10 s before reconnecting and opens connections with blocking
`requests`; here the blocking calls run in a thread and a dropped socket is reopened at
once (then with growing pauses while the gateway stays away). A frame is acknowledged only
after the dispatcher committed its message; when the commit fails no ACK is written, so the
gateway delivers the frame again. Stream callbacks carry no signature to check: they
arrive over the connection the gateway opened for our client id and secret.

Sending: one aiohttp session. Text goes to the message's sessionWebhook while it is valid;
an expired or refused webhook falls back to the robot's send OpenAPI with the access token.
A file (the minutes' DOCX) is uploaded once through the media upload (oapi) and posted with
the robot's send OpenAPI as `sampleFile` (sessionWebhooks take no files); its media id is
kept through delivery, so a retry or a restart posts it without uploading again. Where
DingTalk refuses the file, the message's text (a link to the console's copy) goes instead.
Cards (a poll) are laid out from the view their feature built (render.py) when a card
template is configured; a click on a card goes to the dispatcher as a `CardAction` of its
clicker and is answered in the clicker's own view of the card. Reading DingTalk's frames and
writing its request bodies is wire.py.

Every URL starts from the SDK's `DINGTALK_OPENAPI_ENDPOINT` (the media upload, on DingTalk's
older host, from `DINGTALK_OAPI_ENDPOINT`), so an operator or a test can point the bot at
another gateway. Not the SDK's `upload_to_dingtalk`: it blocks on `requests` and always
calls oapi.dingtalk.com.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote_plus

import aiohttp
import dingtalk_stream
import websockets
from dingtalk_stream import (
    AckMessage,
    CallbackHandler,
    CallbackMessage,
    CardCallbackMessage,
    ChatbotMessage,
    Credential,
    DingTalkStreamClient,
)
from dingtalk_stream.card_callback import Card_Callback_Router_Topic
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from bot.adapters.dingtalk import CLIENT_ID, CLIENT_SECRET
from bot.adapters.dingtalk.render import card_params, click_answer, private_view
from bot.adapters.dingtalk.wire import (
    MAX_ID_LENGTH,
    PLATFORM,
    as_int,
    card_click,
    clicked_option,
    clicked_stance,
    epoch_time,
    file_send_body,
    robot_message,
    robot_send_body,
    webhook_body,
)
from bot.core.clock import Clock
from bot.core.files import FileRef
from bot.core.messages import Kind, OutgoingMessage, ReplyRoute, SendResult
from bot.core.secrets import env_secret, remember_secret
from bot.core.settings import Settings
from bot.core.views import CardView, StanceView
from bot.delivery.cards import CardIds
from bot.delivery.files import Files
from bot.delivery.link import PlatformLink

log = logging.getLogger(__name__)

THROTTLED = 130101
# The older OpenAPI host, where the media upload lives (api.dingtalk.com has none).
OAPI_ENDPOINT_ENV = "DINGTALK_OAPI_ENDPOINT"
DEFAULT_OAPI_ENDPOINT = "https://oapi.dingtalk.com"
# Media upload answers meaning "fetch a new access token" and "busy, try again".
TOKEN_REFUSED = frozenset({40001, 40014, 42001})
BUSY = frozenset({-1})
# A webhook that expires within this margin is not worth a try.
WEBHOOK_MARGIN = timedelta(seconds=60)
# Never open connections faster than this, however often the gateway drops them.
MIN_SECONDS_BETWEEN_CONNECTS = 1.0
BLOCKING_CALL_TIMEOUT = 20.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
STOP_GRACE_SECONDS = 5.0
# A click on a card the bot does not know (sent by an older install, say).
STALE_CARD = "这张卡片已失效。"

T = TypeVar("T")


def credentials_from_environment() -> tuple[str, str] | None:
    """The DingTalk app's client id and secret, when both are set."""
    client_id, client_secret = env_secret(CLIENT_ID), env_secret(CLIENT_SECRET)
    if client_id and client_secret:
        return client_id, client_secret
    return None


def openapi_endpoint() -> str:
    """Where DingTalk's OpenAPI lives: the SDK's own setting, read once at its import."""
    return str(dingtalk_stream.utils.DINGTALK_OPENAPI_ENDPOINT).rstrip("/")


def oapi_endpoint() -> str:
    """Where DingTalk's older OpenAPI lives (the media upload)."""
    return (os.environ.get(OAPI_ENDPOINT_ENV) or DEFAULT_OAPI_ENDPOINT).rstrip("/")


class _QuietPings(logging.Filter):
    """The SDK logs every gateway ping as an unknown topic; the ping is answered all the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        unknown = isinstance(record.msg, str) and record.msg.startswith("unknown message topic")
        return not (unknown and isinstance(record.args, tuple) and "ping" in record.args)


_sdk_log = logging.getLogger(f"{__name__}.sdk")
_sdk_log.addFilter(_QuietPings())


class _StreamClient(DingTalkStreamClient):  # type: ignore[misc]
    """The SDK's client, driven by DingTalkAdapter instead of its own `start()`."""

    def get_host_ip(self) -> str:
        # The SDK learns the local address by routing a socket toward a public address;
        # government intranets often have no such route. The address is informational.
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return ""


class _Unacknowledged(CallbackHandler):  # type: ignore[misc]
    """A handler whose frame gets no ACK when handling it failed, so it is delivered again."""

    async def raw_process(self, callback: CallbackMessage) -> AckMessage | None:
        try:
            return await super().raw_process(callback)
        except Exception:
            log.exception("%s frame not handled; left unacknowledged", callback.headers.topic)
            return None


class _ChatbotMessages(_Unacknowledged):
    def __init__(self, adapter: DingTalkAdapter) -> None:
        super().__init__()
        self.adapter = adapter

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        await self.adapter.take_message(callback)
        return AckMessage.STATUS_OK, "OK"


class _CardClicks(_Unacknowledged):
    def __init__(self, adapter: DingTalkAdapter) -> None:
        super().__init__()
        self.adapter = adapter

    async def process(self, callback: CallbackMessage) -> tuple[int, dict[str, Any]]:
        return AckMessage.STATUS_OK, await self.adapter.take_click(callback)


class DingTalkAdapter:
    """A DingTalk robot in Stream mode."""

    platform = PLATFORM

    def __init__(
        self, *, client_id: str, client_secret: str, settings: Settings, clock: Clock
    ) -> None:
        self.client_id = client_id
        self.settings = settings
        self.options = settings.platforms.dingtalk
        self.clock = clock
        self._client = _StreamClient(Credential(client_id, client_secret), logger=_sdk_log)
        self._client.register_callback_handler(ChatbotMessage.TOPIC, _ChatbotMessages(self))
        self._client.register_callback_handler(Card_Callback_Router_Topic, _CardClicks(self))
        self._client.pre_start()
        self._link: PlatformLink | None = None
        self._cards: CardIds | None = None
        self._files: Files | None = None
        self._oapi = oapi_endpoint()
        self._http: aiohttp.ClientSession | None = None
        self._connection_task: asyncio.Task[None] | None = None
        self._frames: set[asyncio.Task[None]] = set()
        self._sends: set[asyncio.Task[SendResult]] = set()
        self._routes: dict[str, ReplyRoute] = {}
        self._token_lock = asyncio.Lock()
        self._stopping = False

    @property
    def link(self) -> PlatformLink:
        """The bot, once started."""
        if self._link is None:
            raise RuntimeError("the DingTalk adapter has not been started")
        return self._link

    @property
    def cards(self) -> CardIds:
        """Which DingTalk card shows what, once started."""
        if self._cards is None:
            raise RuntimeError("the DingTalk adapter has not been started")
        return self._cards

    @property
    def files(self) -> Files:
        """The documents to post as files and DingTalk's media ids for them, once started."""
        if self._files is None:
            raise RuntimeError("the DingTalk adapter has not been started")
        return self._files

    # -- receiving ------------------------------------------------------------------------

    async def start(self, link: PlatformLink) -> None:
        """Connect to the gateway in the background and keep connected until stopped."""
        self._link = link
        self._cards = link.card_ids(PLATFORM)
        self._files = link.files(PLATFORM)
        self._http = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        self._connection_task = asyncio.create_task(self._stay_connected())

    async def stop(self) -> None:
        """Stop taking frames (unacknowledged ones go to the next connection) and sends."""
        self._stopping = True
        if self._connection_task is not None:
            self._connection_task.cancel()
        websocket = self._client.websocket
        if websocket is not None:
            await websocket.close()
        pending = [*self._frames, *([self._connection_task] if self._connection_task else [])]
        for task in self._frames:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._sends:
            await asyncio.wait(self._sends, timeout=STOP_GRACE_SECONDS)
        if self._http is not None:
            await self._http.close()

    async def _stay_connected(self) -> None:
        loop = asyncio.get_running_loop()
        last_connect = -MIN_SECONDS_BETWEEN_CONNECTS
        while not self._stopping:
            await asyncio.sleep(max(0.0, last_connect + MIN_SECONDS_BETWEEN_CONNECTS - loop.time()))
            retrying = AsyncRetrying(
                wait=wait_exponential_jitter(initial=0.5, max=30),
                retry=retry_if_exception_type(Exception),
                before_sleep=_log_connect_failure,
            )
            websocket: websockets.ClientConnection | None = None
            async for attempt in retrying:
                with attempt:
                    last_connect = loop.time()
                    websocket = await self._connect()
            assert websocket is not None
            await self._serve(websocket)

    async def _connect(self) -> websockets.ClientConnection:
        connection = await _in_daemon_thread(self._client.open_connection)
        if not isinstance(connection, dict) or "endpoint" not in connection:
            raise ConnectionError("the gateway refused to open a connection")
        uri = f"{connection['endpoint']}?ticket={quote_plus(str(connection['ticket']))}"
        return await websockets.connect(uri)

    async def _serve(self, websocket: websockets.ClientConnection) -> None:
        """Hand each frame to the SDK's router (which writes the ACK) until the socket closes."""
        self._client.websocket = websocket
        log.info("DingTalk Stream connected")
        try:
            async for raw in websocket:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("DingTalk sent a frame that is not JSON; ignored")
                    continue
                task = asyncio.create_task(self._client.background_task(frame))
                self._frames.add(task)
                task.add_done_callback(self._frames.discard)
        except websockets.ConnectionClosed:
            pass
        if not self._stopping:
            log.warning("DingTalk Stream connection closed; reconnecting")

    async def take_message(self, callback: CallbackMessage) -> None:
        """A robot message: dispatch it; returns once committed (then the SDK acknowledges)."""
        link = self.link
        try:
            message = robot_message(
                callback.data,
                admins_are_moderators=self.options.admins_are_moderators,
                now=self.clock.now(),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            message = None
        if message is None:
            # Redelivering a message that cannot be read would only repeat the failure.
            log.warning("unreadable DingTalk robot message acknowledged and dropped")
            return
        self._remember(message.conversation_id, message.route)
        await link.dispatch(message)

    async def take_click(self, callback: CallbackMessage) -> dict[str, Any]:
        """A click on a card: the card's feature handles it as the clicker's action, and the
        outcome is said in the clicker's own view of the card."""
        link, cards = self.link, self.cards
        try:
            click = CardCallbackMessage.from_dict(callback.data)
        except (AttributeError, TypeError, ValueError):
            log.warning("unreadable DingTalk card callback acknowledged and dropped")
            return {}
        user = str(click.user_id or "")
        if not user or len(user) > MAX_ID_LENGTH:
            return {}
        shown = await cards.find(str(click.card_instance_id))
        if shown is None:
            return private_view(notice=STALE_CARD)
        try:
            message = card_click(
                card_key=shown.card_key,
                conversation_id=shown.conversation_id,
                user=user,
                option=clicked_option(click.content),
                values=clicked_stance(click.content),
                message_id=str(callback.headers.message_id or f"card:{uuid.uuid4().hex}"),
                at=epoch_time(callback.headers.time) or self.clock.now(),
            )
        except ValueError:  # a user id of nothing but invisible characters
            log.warning("DingTalk card click with an unusable user id acknowledged and dropped")
            return {}
        return click_answer(await link.dispatch(message))

    def _remember(self, conversation_id: str, route: ReplyRoute | None) -> None:
        """Keep the conversation's freshest sessionWebhook for answers to older messages."""
        if route is None:
            return
        known = self._routes.get(conversation_id)
        if known is None or _expiry(route) >= _expiry(known):
            self._routes[conversation_id] = route

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message (a text, a poll card, or a card's new tally)."""
        if self._stopping or self._http is None:
            return SendResult.retry("the bot is stopping")
        task = asyncio.create_task(self._send(message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        return await task

    async def _send(self, message: OutgoingMessage) -> SendResult:
        if message.kind is Kind.CARD_UPDATE:
            return await self._refresh_cards(message)
        if message.kind is Kind.FILE and message.file is not None:
            return await self._send_file(message, message.file)
        if message.kind is Kind.CARD and message.card and self._template_of(message.card):
            return await self._send_card(message, message.card)
        if not message.body:
            return SendResult.sent()
        return await self._send_text(message)

    def _route(self, message: OutgoingMessage) -> ReplyRoute:
        """The freshest way to answer: the message's own webhook or a later one from the group."""
        own = message.route or ReplyRoute()
        latest = self._routes.get(message.conversation_id)
        if latest is not None and _expiry(latest) > _expiry(own):
            return latest
        return own

    async def _send_text(self, message: OutgoingMessage) -> SendResult:
        route = self._route(message)
        markdown = message.kind is Kind.MARKDOWN
        expires = route.expires_at
        if route.address and expires and expires - self.clock.now() > WEBHOOK_MARGIN:
            result = await self._post_webhook(route.address, webhook_body(message, markdown))
            if result is not None:
                return result
            if self._routes.get(message.conversation_id) == route:
                del self._routes[message.conversation_id]
        return await self._send_by_openapi(message, route, markdown)

    async def _post_webhook(self, url: str, body: dict[str, Any]) -> SendResult | None:
        """Send through a sessionWebhook; None when the webhook no longer works."""
        assert self._http is not None
        try:
            async with self._http.post(url, json=body) as response:
                status = response.status
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return SendResult.retry(f"session webhook unreachable: {type(error).__name__}")
        if status >= 500:
            return SendResult.retry(f"session webhook answered HTTP {status}")
        errcode = as_int(answer.get("errcode")) if isinstance(answer, dict) else None
        if status == 200 and errcode == 0:
            return SendResult.sent()
        if errcode == THROTTLED:
            return SendResult.retry(
                "throttled (130101)", after=self.options.throttled_retry_seconds
            )
        log.info(
            "session webhook refused (HTTP %s, errcode %s); using the OpenAPI", status, errcode
        )
        return None

    async def _send_by_openapi(
        self, message: OutgoingMessage, route: ReplyRoute, markdown: bool
    ) -> SendResult:
        body = robot_send_body(self.client_id, message, markdown)
        if route.private_to:
            body["userIds"] = [route.private_to]
            path = "/v1.0/robot/oToMessages/batchSend"
        else:
            body["openConversationId"] = message.conversation_id
            path = "/v1.0/robot/groupMessages/send"
        result, _answer = await self._openapi("POST", path, body)
        return result

    async def _send_file(self, message: OutgoingMessage, file: FileRef) -> SendResult:
        """Post a stored document as a file: its media id if DingTalk has it, else upload it
        first (and keep the id before posting, so a restart does not upload it twice)."""
        media = await self.files.media(file)
        uploaded_now = media is None
        if media is None:
            content = await self.files.content(file)
            if content is None:
                log.error("the document %s to post is gone; sending its link instead", file.key)
                return await self._send_link(message)
            upload = await self._upload(file, content)
            if isinstance(upload, SendResult):
                if not _permanent(upload):
                    return upload
                log.error("DingTalk refused the upload of %s (%s)", file.key, upload.error)
                return await self._send_link(message)
            media = upload
            await self.files.remember(file, media)
        body = file_send_body(self.client_id, media, file)
        route = self._route(message)
        if route.private_to:
            body["userIds"] = [route.private_to]
            path = "/v1.0/robot/oToMessages/batchSend"
        else:
            body["openConversationId"] = message.conversation_id
            path = "/v1.0/robot/groupMessages/send"
        result, _answer = await self._openapi("POST", path, body)
        if result.ok or not _permanent(result):
            return result
        if not uploaded_now:
            # A media id kept from before that DingTalk no longer takes: upload it again.
            await self.files.forget(file)
            return SendResult.retry(f"kept media id refused ({result.error})", after=1.0)
        log.error("DingTalk refused the file %s (%s); sending its link", file.key, result.error)
        return await self._send_link(message)

    async def _send_link(self, message: OutgoingMessage) -> SendResult:
        """A file's text instead of the file: where to download it."""
        return await self._send_text(replace(message, kind=Kind.TEXT, file=None))

    async def _upload(self, file: FileRef, content: bytes) -> str | SendResult:
        """Upload a document through the media upload; its media id, or why not."""
        assert self._http is not None
        token = await self._access_token()
        if not token:
            return SendResult.retry("no DingTalk access token")
        form = aiohttp.FormData()
        form.add_field("type", "file")
        form.add_field("media", content, filename=file.name, content_type=file.content_type)
        # The token goes in the query, as the upload wants it; neither the URL nor the
        # aiohttp error (which may quote it) is ever logged.
        url = f"{self._oapi}/media/upload"
        try:
            async with self._http.post(url, params={"access_token": token}, data=form) as response:
                status = response.status
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return SendResult.retry(f"media upload unreachable: {type(error).__name__}")
        answer = answer if isinstance(answer, dict) else {}
        errcode = as_int(answer.get("errcode"))
        media = answer.get("media_id")
        if status == 200 and not errcode and isinstance(media, str) and media:
            return media
        if status == 401 or errcode in TOKEN_REFUSED:
            self._client.reset_access_token()
            return SendResult.retry(f"media upload: access token refused ({errcode})", after=1.0)
        if status == 429 or status >= 500 or errcode in BUSY:
            return SendResult.retry(f"media upload answered HTTP {status} errcode {errcode}")
        return SendResult.retry(f"refused: media upload HTTP {status} errcode {errcode}")

    async def _send_card(self, message: OutgoingMessage, view: CardView) -> SendResult:
        card_id = await self.cards.card_for(
            key=view.key,
            conversation_id=message.conversation_id,
            new_card_id=f"xieshang-{uuid.uuid4().hex}",
        )
        route = self._route(message)
        body: dict[str, Any] = {
            "cardTemplateId": self._template_of(view),
            "outTrackId": card_id,
            "callbackType": "STREAM",
            "cardData": {"cardParamMap": card_params(view)},
            "userIdType": 1,
        }
        if route.private_to:
            body["openSpaceId"] = f"dtv1.card//IM_ROBOT.{route.private_to}"
            body["imRobotOpenSpaceModel"] = {"supportForward": False}
            # The robot the member chats with delivers it (DingTalk needs its code here too).
            body["imRobotOpenDeliverModel"] = {"spaceType": "IM_ROBOT", "robotCode": self.client_id}
        else:
            body["openSpaceId"] = f"dtv1.card//IM_GROUP.{message.conversation_id}"
            body["imGroupOpenSpaceModel"] = {"supportForward": False}
            body["imGroupOpenDeliverModel"] = {"robotCode": self.client_id}
        result, answer = await self._openapi("POST", "/v1.0/card/instances/createAndDeliver", body)
        if result.ok and answer.get("success") is not False:
            await self.cards.delivered(card_id)
            return result
        if result.ok or _permanent(result):
            # A wrong template id must not silence the poll: members can still type /投.
            log.error("DingTalk refused the card (%s); sending its text instead", result.error)
            return await self._send_text(message)
        return result

    def _template_of(self, view: CardView) -> str:
        """The card template a view is laid out in (empty: not configured, send the text)."""
        if isinstance(view, StanceView):
            return self.options.statement_card_template_id
        return self.options.card_template_id

    async def _refresh_cards(self, message: OutgoingMessage) -> SendResult:
        view = message.card
        if view is None:
            return SendResult.sent()
        params = card_params(view)
        for card_id in await self.cards.shown(view.key):
            body = {
                "outTrackId": card_id,
                "cardData": {"cardParamMap": params},
                "cardUpdateOptions": {"updateCardDataByKey": True},
                "userIdType": 1,
            }
            result, _answer = await self._openapi("PUT", "/v1.0/card/instances", body)
            if not result.ok and not _permanent(result):
                return result
            if not result.ok:
                # The next update carries the whole tally again; holding this one back
                # would hold the group's messages back behind it.
                log.error("DingTalk refused a card update (%s); skipped", result.error)
        return SendResult.sent()

    async def _openapi(
        self, method: str, path: str, body: dict[str, Any]
    ) -> tuple[SendResult, dict[str, Any]]:
        """Call the OpenAPI with the access token; the result and the answer's body."""
        assert self._http is not None
        token = await self._access_token()
        if not token:
            return SendResult.retry("no DingTalk access token", after=None), {}
        url = openapi_endpoint() + path
        headers = {"x-acs-dingtalk-access-token": token}
        try:
            async with self._http.request(method, url, json=body, headers=headers) as response:
                status = response.status
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return SendResult.retry(f"OpenAPI unreachable: {type(error).__name__}"), {}
        answer = answer if isinstance(answer, dict) else {}
        if 200 <= status < 300:
            return SendResult.sent(), answer
        code = str(answer.get("code", ""))
        if status == 401 or "token" in code.lower():
            self._client.reset_access_token()
            return SendResult.retry(f"access token refused ({code})", after=1.0), answer
        if status == 429 or status >= 500:
            return SendResult.retry(f"OpenAPI {path} answered HTTP {status} {code}"), answer
        return SendResult.retry(f"refused: OpenAPI {path} HTTP {status} {code}"), answer

    async def _access_token(self) -> str | None:
        async with self._token_lock:  # one fetch at a time; the SDK caches the token
            try:
                token = await _in_daemon_thread(self._client.get_access_token)
            except (OSError, TimeoutError):
                return None
        if not token:
            return None
        remember_secret(str(token))
        return str(token)


def _expiry(route: ReplyRoute) -> datetime:
    return route.expires_at or datetime.min.replace(tzinfo=UTC)


def _log_connect_failure(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    log.warning("DingTalk Stream connect failed (%s); retrying in %.1fs", error, pause)


def _permanent(result: SendResult) -> bool:
    return result.error.startswith("refused:")


async def _in_daemon_thread(call: Callable[[], T]) -> T:
    """Run one of the SDK's blocking calls off the event loop.

    Not `asyncio.to_thread`: the SDK's `requests` calls have no timeout, and a hung one in
    the default executor would keep the process from exiting; a daemon thread cannot.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: Exception | None) -> None:
        if future.done():
            return  # the caller timed out or was cancelled
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        value: Any = None
        error: Exception | None = None
        try:
            value = call()
        except Exception as failure:
            error = failure
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=work, name="dingtalk-sdk", daemon=True).start()
    return await asyncio.wait_for(future, BLOCKING_CALL_TIMEOUT)


def adapter_from_environment(settings: Settings, clock: Clock) -> DingTalkAdapter | None:
    """The DingTalk adapter when DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are set."""
    credentials = credentials_from_environment()
    if credentials is None:
        return None
    if os.environ.get("DINGTALK_OPENAPI_ENDPOINT"):
        log.info("DingTalk endpoint: %s", openapi_endpoint())
    return DingTalkAdapter(
        client_id=credentials[0], client_secret=credentials[1], settings=settings, clock=clock
    )

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
Polls become interactive cards when a card template is configured; a click on a card is a
`/投` of its clicker, answered in the clicker's own view of the card.

Every URL starts from the SDK's `DINGTALK_OPENAPI_ENDPOINT`, so an operator or a test can
point the bot at another gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

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

from bot.core.clock import Clock
from bot.core.dispatcher import Dispatcher, Outcome, Status
from bot.core.messages import IncomingMessage, OutgoingMessage, SendResult
from bot.core.roles import Role
from bot.core.secrets import env_secret, remember_secret
from bot.core.settings import Settings
from bot.core.text import bar, format_time
from bot.delivery.cards import CardedPoll, PollCards

log = logging.getLogger(__name__)

PLATFORM = "dingtalk"
CLIENT_ID = "DINGTALK_CLIENT_ID"
CLIENT_SECRET = "DINGTALK_CLIENT_SECRET"
THROTTLED = 130101
GROUP_CHAT = "2"
SINGLE_CHAT = "1"
# A webhook that expires within this margin is not worth a try.
WEBHOOK_MARGIN_MS = 60_000
# Never open connections faster than this, however often the gateway drops them.
MIN_SECONDS_BETWEEN_CONNECTS = 1.0
BLOCKING_CALL_TIMEOUT = 20.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
STOP_GRACE_SECONDS = 5.0
MAX_ID_LENGTH = 128  # the database's width for platform ids
# What the clicker alone sees on a poll card (their choice, or why it was refused).
PRIVATE_CARD_PARAMS = ("my_choice", "notice")
_LEADING_MENTIONS = re.compile(r"^(?:\s*[@＠]\S+)+\s+")

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


@dataclass(frozen=True, slots=True)
class _Route:
    """How to reach a conversation: its freshest sessionWebhook, and what the OpenAPI needs."""

    webhook: str = ""
    expires_ms: int = 0
    conversation_type: str = GROUP_CHAT
    user: str = ""

    @classmethod
    def of(cls, context: Mapping[str, Any]) -> _Route:
        """Read a message's reply_context."""
        return cls(
            webhook=str(context.get("webhook") or ""),
            expires_ms=_as_int(context.get("webhook_expires_ms")) or 0,
            conversation_type=str(context.get("conversation_type") or GROUP_CHAT),
            user=str(context.get("user") or ""),
        )

    def webhook_usable(self, now_ms: int) -> bool:
        """Whether the webhook is known and not about to expire."""
        return bool(self.webhook) and self.expires_ms - now_ms > WEBHOOK_MARGIN_MS


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
        self._dispatcher: Dispatcher | None = None
        self._cards: PollCards | None = None
        self._http: aiohttp.ClientSession | None = None
        self._connection_task: asyncio.Task[None] | None = None
        self._frames: set[asyncio.Task[None]] = set()
        self._sends: set[asyncio.Task[SendResult]] = set()
        self._routes: dict[str, _Route] = {}
        self._token_lock = asyncio.Lock()
        self._stopping = False

    # -- receiving ------------------------------------------------------------------------

    async def start(self, dispatcher: Dispatcher) -> None:
        """Connect to the gateway in the background and keep connected until stopped."""
        self._dispatcher = dispatcher
        self._cards = PollCards(database=dispatcher.database, clock=self.clock, platform=PLATFORM)
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
        assert self._dispatcher is not None
        try:
            message = self._incoming(callback.data)
        except (KeyError, TypeError, ValueError, AttributeError):
            message = None
        if message is None:
            # Redelivering a message that cannot be read would only repeat the failure.
            log.warning("unreadable DingTalk robot message acknowledged and dropped")
            return
        route = _Route.of(message.reply_context)
        known = self._routes.get(message.conversation_id)
        if known is None or route.expires_ms >= known.expires_ms:
            self._routes[message.conversation_id] = route
        await self._dispatcher.dispatch(message)

    def _incoming(self, data: Mapping[str, Any]) -> IncomingMessage | None:
        message = ChatbotMessage.from_dict(data)
        sender = message.sender_staff_id or message.sender_id
        ids = (message.conversation_id, message.message_id, sender)
        if not all(isinstance(i, str) and 0 < len(i) <= MAX_ID_LENGTH for i in ids):
            return None
        is_group = message.conversation_type == GROUP_CHAT
        roles = {Role.MODERATOR} if message.is_admin and self.options.admins_are_moderators else ()
        reply_context = {
            "webhook": message.session_webhook or "",
            "webhook_expires_ms": _as_int(message.session_webhook_expired_time) or 0,
            "conversation_type": message.conversation_type or GROUP_CHAT,
            "user": "" if is_group else sender,
        }
        return IncomingMessage(
            platform=PLATFORM,
            conversation_id=message.conversation_id,
            conversation_title=str(message.conversation_title or "")[:MAX_ID_LENGTH],
            sender_id=sender,
            sender_name=str(message.sender_nick or ""),
            text=_LEADING_MENTIONS.sub("", _message_text(message)).strip(),
            message_id=message.message_id,
            timestamp=self._time(message.create_at),
            addressed=bool(message.is_in_at_list) or not is_group,
            is_group=is_group,
            platform_roles=frozenset(roles),
            reply_context=reply_context,
        )

    async def take_click(self, callback: CallbackMessage) -> dict[str, Any]:
        """A click on a poll card: vote as the clicker, and say the outcome in their view."""
        assert self._dispatcher is not None
        assert self._cards is not None
        try:
            click = CardCallbackMessage.from_dict(callback.data)
        except (AttributeError, TypeError, ValueError):
            log.warning("unreadable DingTalk card callback acknowledged and dropped")
            return {}
        option = _clicked_option(click.content)
        carded = await self._cards.poll_of(str(click.card_instance_id))
        user = str(click.user_id or "")
        if not user or len(user) > MAX_ID_LENGTH:
            return {}
        if carded is None or option is None or not 1 <= option <= len(carded.options):
            return _private_view(notice="这张卡片已失效，请在群里发送 /投 参加投票。")
        message = IncomingMessage(
            platform=PLATFORM,
            conversation_id=carded.conversation_id,
            sender_id=user,
            sender_name="",  # a click does not say the clicker's name: the stored one is kept
            text=f"/投 #{carded.poll_number} {option}",
            message_id=str(callback.headers.message_id or f"card:{uuid.uuid4().hex}"),
            timestamp=self._time(callback.headers.time),
            interactive=True,
        )
        return _click_answer(await self._dispatcher.dispatch(message), carded, option)

    def _time(self, epoch_ms: object) -> datetime:
        millis = _as_int(epoch_ms)
        if millis is None:
            return self.clock.now()
        return datetime.fromtimestamp(millis / 1000, UTC)

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
        if message.kind == "poll_tally":
            return await self._refresh_cards(message)
        if message.kind == "poll" and self.options.card_template_id:
            return await self._send_card(message)
        if not message.body:
            return SendResult.sent()
        return await self._send_text(message)

    def _route(self, message: OutgoingMessage) -> _Route:
        """The freshest way to answer: the message's own webhook or a later one from the group."""
        own = _Route.of(message.reply_context)
        latest = self._routes.get(message.conversation_id)
        if latest is not None and latest.expires_ms > own.expires_ms:
            return latest
        return own

    async def _send_text(self, message: OutgoingMessage) -> SendResult:
        route = self._route(message)
        markdown = message.kind == "markdown"
        now_ms = int(self.clock.now().timestamp() * 1000)
        if route.webhook_usable(now_ms):
            result = await self._post_webhook(route.webhook, _webhook_body(message, markdown))
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
        errcode = _as_int(answer.get("errcode")) if isinstance(answer, dict) else None
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
        self, message: OutgoingMessage, route: _Route, markdown: bool
    ) -> SendResult:
        if markdown:
            key, param = "sampleMarkdown", {"title": _title(message.body), "text": message.body}
        else:
            key, param = "sampleText", {"content": message.body}
        body: dict[str, Any] = {
            "robotCode": self.client_id,
            "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False),
        }
        if route.conversation_type == SINGLE_CHAT and route.user:
            body["userIds"] = [route.user]
            path = "/v1.0/robot/oToMessages/batchSend"
        else:
            body["openConversationId"] = message.conversation_id
            path = "/v1.0/robot/groupMessages/send"
        result, _answer = await self._openapi("POST", path, body)
        return result

    async def _send_card(self, message: OutgoingMessage) -> SendResult:
        assert self._cards is not None
        payload = message.payload
        card_id = await self._cards.card_for(
            poll_id=int(payload["poll_id"]),
            conversation_id=message.conversation_id,
            new_card_id=f"xieshang-{uuid.uuid4().hex}",
        )
        route = self._route(message)
        body: dict[str, Any] = {
            "cardTemplateId": self.options.card_template_id,
            "outTrackId": card_id,
            "callbackType": "STREAM",
            "cardData": {"cardParamMap": poll_card_params(payload, self.settings.zone)},
            "userIdType": 1,
        }
        if route.conversation_type == SINGLE_CHAT and route.user:
            body["openSpaceId"] = f"dtv1.card//IM_ROBOT.{route.user}"
            body["imRobotOpenSpaceModel"] = {"supportForward": False}
            body["imRobotOpenDeliverModel"] = {"spaceType": "IM_ROBOT"}
        else:
            body["openSpaceId"] = f"dtv1.card//IM_GROUP.{message.conversation_id}"
            body["imGroupOpenSpaceModel"] = {"supportForward": False}
            body["imGroupOpenDeliverModel"] = {"robotCode": self.client_id}
        result, answer = await self._openapi("POST", "/v1.0/card/instances/createAndDeliver", body)
        if result.ok and answer.get("success") is not False:
            await self._cards.delivered(card_id)
            return result
        if result.ok or _permanent(result):
            # A wrong template id must not silence the poll: members can still type /投.
            log.error("DingTalk refused the poll card (%s); sending the poll as text", result.error)
            return await self._send_text(message)
        return result

    async def _refresh_cards(self, message: OutgoingMessage) -> SendResult:
        assert self._cards is not None
        poll_id = message.payload.get("poll_id")
        if poll_id is None:
            return SendResult.sent()
        card_ids = await self._cards.shown(int(poll_id))
        params = poll_card_params(message.payload, self.settings.zone)
        for card_id in card_ids:
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


def poll_card_params(payload: Mapping[str, Any], zone: ZoneInfo) -> dict[str, str]:
    """A poll, as `poll_view` fills it, as the card's public variables (strings, lists as JSON)."""
    options = [str(o) for o in payload.get("options", ())]
    votes = [int(v) for v in payload.get("votes", ())] or [0] * len(options)
    voters = int(payload.get("voters", 0))
    closed = bool(payload.get("closed"))
    number = payload.get("number", "")
    shares = [v / voters if voters else 0.0 for v in votes]
    traits = ["多选" if payload.get("multiple") else "单选"]
    if payload.get("anonymous"):
        traits.append("匿名")
    deadline = payload.get("deadline")
    if deadline and not closed:
        moment = datetime.fromisoformat(str(deadline))
        traits.append(f"{format_time(moment, zone)} 截止")
    rows = [
        {"index": str(i), "text": o, "votes": str(v), "share": f"{s:.0%}"}
        for i, (o, v, s) in enumerate(zip(options, votes, shares, strict=True), start=1)
    ]
    tally = [f"{o}　{bar(s)} {v} · {s:.0%}" for o, v, s in zip(options, votes, shares, strict=True)]
    result = ""
    if closed and voters:
        top = max(votes)
        leaders = "、".join(o for o, v in zip(options, votes, strict=True) if v == top)
        result = f"结果：{leaders} 得票最多（{top} 票），共 {voters} 人投票"
    elif closed:
        result = "结果：无人投票"
    hint = "点击选项投票，可改选，以最后一次为准"
    if payload.get("multiple"):
        hint = f"点击只选一项；多选请在群里发送 /投 #{number} 1 3"
    return {
        "title": f"投票 #{number}",
        "question": str(payload.get("question", "")),
        "traits": "，".join(traits),
        "status": "已结束" if closed else "进行中",
        "closed": "true" if closed else "false",
        "voters": str(voters),
        "options": json.dumps(rows, ensure_ascii=False),
        "tally": "\n".join(tally),
        "result": result,
        "hint": "" if closed else hint,
    }


def _log_connect_failure(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    log.warning("DingTalk Stream connect failed (%s); retrying in %.1fs", error, pause)


def _permanent(result: SendResult) -> bool:
    return result.error.startswith("refused:")


def _as_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _message_text(message: ChatbotMessage) -> str:
    if message.message_type == "text" and message.text is not None:
        return str(message.text.content or "")
    if message.message_type == "richText" and message.rich_text_content is not None:
        return "".join(str(p.get("text", "")) for p in message.rich_text_content.rich_text_list)
    return ""


def _clicked_option(content: object) -> int | None:
    """The option a card button stands for: its `option` parameter, or an id like `option_2`."""
    private = content.get("cardPrivateData", {}) if isinstance(content, dict) else {}
    params = private.get("params") or {}
    value = params.get("option") if isinstance(params, dict) else None
    if value is None:
        action_ids = private.get("actionIds") or []
        found = re.search(r"(\d+)$", str(action_ids[0])) if action_ids else None
        value = found.group(1) if found else None
    return _as_int(value)


def _click_answer(outcome: Outcome, carded: CardedPoll, option: int) -> dict[str, Any]:
    choice = carded.options[option - 1]
    if outcome.status is Status.OK:
        return _private_view(
            choice=choice, notice=f"已记录你的选择：{choice}。可改选，以最后一次为准。"
        )
    if outcome.status is Status.DUPLICATE:
        return {}  # the first delivery of this click already answered
    return _private_view(notice="\n".join(outcome.replies) or "未能记录你的选择，请稍后再试。")


def _private_view(*, notice: str, choice: str | None = None) -> dict[str, Any]:
    params = {"notice": notice}
    if choice is not None:
        params["my_choice"] = choice
    return {
        "cardUpdateOptions": {"updatePrivateDataByKey": True},
        "userPrivateData": {"cardParamMap": params},
    }


def _webhook_body(message: OutgoingMessage, markdown: bool) -> dict[str, Any]:
    at = {"atUserIds": list(message.mentions)}
    if markdown:
        return {
            "msgtype": "markdown",
            "markdown": {"title": _title(message.body), "text": message.body},
            "at": at,
        }
    return {"msgtype": "text", "text": {"content": message.body}, "at": at}


def _title(body: str) -> str:
    return body.strip().splitlines()[0][:20] if body.strip() else "协商助手"


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

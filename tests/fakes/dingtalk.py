"""A fake DingTalk on 127.0.0.1 that speaks the platform's wire protocol, for the real SDK.

One aiohttp server, in a thread of its own (the SDK makes blocking HTTP calls), plays:
- the Stream gateway: `POST /v1.0/gateway/connections/open` hands out a ticket, the
  websocket at `/gateway` carries CALLBACK and SYSTEM frames (ping, disconnect) and takes
  ACKs. Each frame goes to one live connection; one not acknowledged in time, or whose
  connection dropped, is delivered again (to whichever connection is up), as DingTalk does.
- the OpenAPI: access tokens, the robot's group and single-chat send (text, Markdown and
  `sampleFile` files), interactive cards (create-and-deliver to a group or a single chat,
  update), and the older host's media upload (`/media/upload`, multipart), which keeps
  the bytes so a test can open the file a group received. File sends can be refused for
  a while, as a platform that is down would.
- the sessionWebhook receiver of every group, which can be told to answer "too fast"
  (errcode 130101) or to treat its webhooks as expired.

Tests talk to it from their own thread: the methods below are thread-safe and the `wait_*`
ones block until the fake saw something, with a timeout. Several bot processes may connect
at once (the scale-out case): frames are spread over their connections.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
THROTTLED = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
# What the fake answers to a webhook it considers expired. DingTalk's exact code for that
# is not documented; the bot treats every refusal but "too fast" as "use the OpenAPI".
EXPIRED = {"errcode": 300001, "errmsg": "session 不存在或已过期"}
WEBHOOK_LIFETIME_MS = 90 * 60 * 1000

T = TypeVar("T")


def staff_id(name: str) -> str:
    """The DingTalk staff id the fake gives a member called `name`."""
    return "u" + name.encode().hex()[:60]


@dataclass(frozen=True)
class Media:
    """A file uploaded through the media upload."""

    media_id: str
    filename: str
    content: bytes


@dataclass
class Post:
    """One message that reached a conversation, and how it got there."""

    conversation_id: str
    text: str
    via: str  # "webhook", "openapi" or "card"
    msgtype: str = "text"
    at_user_ids: tuple[str, ...] = ()
    at: float = field(default_factory=time.monotonic)
    # A file message: the uploaded file it shows, and the name and type the message gave.
    file: Media | None = None
    file_type: str = ""


@dataclass
class Card:
    """An interactive card as DingTalk keeps it: public variables and each user's private ones."""

    card_id: str
    template_id: str
    conversation_id: str
    params: dict[str, str]
    callback_type: str
    private: dict[str, dict[str, str]] = field(default_factory=dict)
    updates: int = 0


@dataclass
class Frame:
    """A frame the gateway must get acknowledged."""

    message_id: str
    kind: str
    topic: str
    data: dict[str, Any]
    deliveries: int = 0
    sent_at: float | None = None  # first delivery
    acked_at: float | None = None
    ack: dict[str, Any] | None = None


@dataclass
class Connection:
    """One websocket a bot opened."""

    number: int
    socket: web.WebSocketResponse
    request: web.Request
    opened_at: float
    closed_at: float | None = None
    in_flight: set[str] = field(default_factory=set)
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeDingTalk:
    """DingTalk's gateway, OpenAPI and webhooks for one app, on 127.0.0.1."""

    def __init__(
        self,
        *,
        client_id: str = "dingtest0001",
        client_secret: str = "fake-secret-for-tests",
        redeliver_after: float = 5.0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redeliver_after = redeliver_after
        self.url = ""
        self.posts: list[Post] = []
        self.cards: dict[str, Card] = {}
        self.frames: dict[str, Frame] = {}
        self.connections: list[Connection] = []
        self.tokens: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of OpenAPI calls
        self.drops: list[float] = []  # when connections were cut
        self.media: dict[str, Media] = {}  # every upload, by the media id handed out
        self.uploads: list[Media] = []
        self.refused_file_sends = 0
        self._refuse_files = False
        self._changed = threading.Condition()
        self._queue: list[str] = []
        self._tickets: set[str] = set()
        self._sessions: dict[str, str] = {}  # webhook session -> conversation
        self._expired_sessions: set[str] = set()
        self._throttle = 0
        self.throttled_answers = 0
        self._turn = itertools.count()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # -- running --------------------------------------------------------------------------

    def start(self) -> FakeDingTalk:
        """Serve on a free port of 127.0.0.1 in a background thread."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._open())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-dingtalk", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake DingTalk did not start")
        return self

    def stop(self) -> None:
        """Close every connection and stop serving."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeDingTalk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment a bot needs to use this fake as its DingTalk."""
        return {
            "DINGTALK_CLIENT_ID": self.client_id,
            "DINGTALK_CLIENT_SECRET": self.client_secret,
            "DINGTALK_OPENAPI_ENDPOINT": self.url,
            "DINGTALK_OAPI_ENDPOINT": self.url,
        }

    async def _open(self) -> None:
        app = web.Application()
        app.router.add_post("/v1.0/gateway/connections/open", self._open_connection)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_post("/v1.0/oauth2/accessToken", self._access_token)
        app.router.add_post("/robot/sendBySession", self._session_webhook)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._single_send)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self._create_card)
        app.router.add_put("/v1.0/card/instances", self._update_card)
        app.router.add_post("/media/upload", self._upload_media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _close(self) -> None:
        for connection in self.connections:
            if connection.closed_at is None:
                await connection.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _on_loop(self, call: Callable[[], T], timeout: float = 10) -> T:
        """Run `call` on the fake's loop and return its result (from a test's thread)."""
        assert self._loop is not None

        async def run() -> T:
            return call()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def _note(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[], T], timeout: float = 20, what: str = "") -> T:
        """Block until `condition()` is truthy (checked whenever the fake changes); return it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := condition()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the fake DingTalk never saw {what or condition}")
                self._changed.wait(min(left, 0.5))
            return result

    # -- what a test does -----------------------------------------------------------------

    def group(self, conversation_id: str | None = None, title: str = "政协委员群") -> FakeGroup:
        """A group chat the robot is in."""
        return FakeGroup(self, conversation_id or f"cid{uuid.uuid4().hex[:20]}==", title)

    def single_chat(self, name: str) -> FakeSingleChat:
        """`name`'s single chat with the robot."""
        return FakeSingleChat(self, f"cid{uuid.uuid4().hex[:20]}==", name)

    def refuse_file_sends(self, refuse: bool) -> None:
        """Answer file messages with HTTP 503 (DingTalk unavailable) until told otherwise;
        uploads still work."""
        self._note(lambda: setattr(self, "_refuse_files", refuse))

    def push(
        self, topic: str, data: dict[str, Any], *, message_id: str | None = None, copies: int = 1
    ) -> str:
        """Queue a CALLBACK frame (`copies` > 1 delivers the very same frame again)."""
        frame_id = message_id or f"frame-{uuid.uuid4().hex}"
        self._on_loop(lambda: self._enqueue(Frame(frame_id, "CALLBACK", topic, data), copies))
        return frame_id

    def push_spread(
        self, frames: Iterable[tuple[str, dict[str, Any], int]], *, over: float
    ) -> list[str]:
        """Queue (topic, data, copies) frames evenly over `over` seconds, as a burst arrives."""
        planned = [(f"frame-{uuid.uuid4().hex}", *frame) for frame in frames]

        def plan() -> None:
            assert self._loop is not None
            step = over / max(len(planned), 1)
            for i, (frame_id, topic, data, copies) in enumerate(planned):
                frame = Frame(frame_id, "CALLBACK", topic, data)
                self._loop.call_later(i * step, self._enqueue, frame, copies)

        self._on_loop(plan)
        return [frame_id for frame_id, *_ in planned]

    def ping(self, timeout: float = 10) -> dict[str, Any]:
        """Send a SYSTEM ping and return the data the bot echoed in its ACK."""
        opaque = uuid.uuid4().hex
        frame = Frame(f"ping-{opaque}", "SYSTEM", "ping", {"opaque": opaque})
        self._on_loop(lambda: self._enqueue(frame, 1))
        self.wait_until(lambda: frame.ack is not None, timeout, "the ping acknowledged")
        assert frame.ack is not None
        return dict(json.loads(frame.ack.get("data") or "{}"))

    def disconnect(self) -> None:
        """Ask every live connection to go (DingTalk's `disconnect` frame, before upgrades)."""

        def send() -> None:
            for connection in self.live():
                frame = Frame(f"disconnect-{uuid.uuid4().hex}", "SYSTEM", "disconnect", {})
                self._spawn(self._send_frame(connection, frame))

        self._on_loop(send)

    def drop(self, *, after: float = 0.0) -> float:
        """Cut every live connection without a goodbye (after `after` s); returns when, planned."""
        assert self._loop is not None
        loop = self._loop
        when = time.monotonic() + after

        def cut() -> None:
            self._note(lambda: self.drops.append(time.monotonic()))
            for connection in self.live():
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()

        loop.call_soon_threadsafe(loop.call_later, after, cut)
        return when

    def throttle(self, count: int) -> None:
        """Answer the next `count` webhook sends with errcode 130101 (too fast)."""
        self._note(lambda: setattr(self, "_throttle", count))

    def expire_webhooks(self) -> None:
        """Every sessionWebhook handed out so far stops working."""
        self._note(lambda: self._expired_sessions.update(self._sessions))

    def click(self, card_id: str, user: str, option: int, timeout: float = 15) -> dict[str, Any]:
        """`user` presses the button of `option` on a card; returns the bot's answer to it."""
        private = {"actionIds": ["vote"], "params": {"option": str(option)}}
        content = json.dumps({"cardPrivateData": private})
        card = self.cards[card_id]
        frame_id = self.push(
            CARD_TOPIC,
            {
                "extension": "{}",
                "corpId": "dingcorp0001",
                "spaceType": "IM_GROUP",
                "spaceId": card.conversation_id,
                "userIdType": 1,
                "type": "actionCallback",
                "userId": user,
                "content": content,
                "value": content,
                "outTrackId": card_id,
            },
        )
        frame = self.wait_acked([frame_id], timeout)[0]
        assert frame.ack is not None
        answer = json.loads(frame.ack.get("data") or "{}").get("response") or {}
        self._apply_private(card, user, answer)
        return dict(answer)

    def press(self, card_id: str, user: str, stance: str, timeout: float = 15) -> dict[str, Any]:
        """`user` presses a button of a stance card (docs/dingtalk-statement-card.json):
        DingTalk sends the button's `stance` and the `${my_number}` of the user's own view
        of the card, which is empty until the bot set it in answer to their first click."""
        card = self.cards[card_id]
        statement = card.private.get(user, {}).get("my_number", "")
        params = {"stance": stance, "statement": statement}
        return self._press(
            card, user, {"actionIds": [f"stance_{stance}"], "params": params}, timeout
        )

    def _press(
        self, card: Card, user: str, private: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        content = json.dumps({"cardPrivateData": private})
        frame_id = self.push(
            CARD_TOPIC,
            {
                "extension": "{}",
                "corpId": "dingcorp0001",
                "spaceType": "IM_GROUP",
                "spaceId": card.conversation_id,
                "userIdType": 1,
                "type": "actionCallback",
                "userId": user,
                "content": content,
                "value": content,
                "outTrackId": card.card_id,
            },
        )
        frame = self.wait_acked([frame_id], timeout)[0]
        assert frame.ack is not None
        answer = json.loads(frame.ack.get("data") or "{}").get("response") or {}
        self._apply_private(card, user, answer)
        return dict(answer)

    # -- what a test reads ----------------------------------------------------------------

    def live(self) -> list[Connection]:
        """Connections that are open now."""
        return [c for c in self.connections if c.closed_at is None]

    def wait_connected(self, count: int = 1, timeout: float = 30) -> list[Connection]:
        """Block until `count` connections were opened in all; return the live ones."""
        self.wait_until(lambda: len(self.connections) >= count, timeout, f"{count} connections")
        return self.live()

    def wait_acked(self, frame_ids: list[str], timeout: float = 30) -> list[Frame]:
        """Block until every frame was acknowledged."""
        frames = [self.frames_by_id(i) for i in frame_ids]
        self.wait_until(
            lambda: all(f.acked_at is not None for f in frames), timeout, "every frame acked"
        )
        return frames

    def frames_by_id(self, frame_id: str) -> Frame:
        """The frame with this id."""
        return self.wait_until(lambda: self.frames.get(frame_id), 10, f"frame {frame_id}")

    def posts_to(self, conversation_id: str) -> list[Post]:
        """Everything that reached the conversation, in order."""
        with self._changed:
            return [p for p in self.posts if p.conversation_id == conversation_id]

    def wait_for_post(self, conversation_id: str, text: str, timeout: float = 20) -> Post:
        """Block until a message containing `text` reached the conversation; return it."""

        def found() -> Post | None:
            return next((p for p in self.posts_to(conversation_id) if text in p.text), None)

        return self.wait_until(found, timeout, f"「{text}」 in {conversation_id}")

    def card_in(self, conversation_id: str, timeout: float = 20) -> Card:
        """The first card delivered to the conversation, waiting for it."""

        def found() -> Card | None:
            return next(
                (c for c in self.cards.values() if c.conversation_id == conversation_id), None
            )

        return self.wait_until(found, timeout, f"a card in {conversation_id}")

    # -- the gateway ----------------------------------------------------------------------

    def _enqueue(self, frame: Frame, copies: int) -> None:
        def add() -> None:
            self.frames.setdefault(frame.message_id, frame)
            self._queue.extend([frame.message_id] * copies)

        self._note(add)
        self._deliver_queued()

    def _deliver_queued(self) -> None:
        live = self.live()
        while self._queue and live:
            frame = self.frames[self._queue.pop(0)]
            if frame.acked_at is not None:
                continue  # acknowledged meanwhile (a redelivery that is no longer needed)
            connection = live[next(self._turn) % len(live)]
            self._spawn(self._send_frame(connection, frame))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_frame(self, connection: Connection, frame: Frame) -> None:
        headers = {
            "appId": self.client_id,
            "connectionId": f"conn-{connection.number}",
            "contentType": "application/json",
            "messageId": frame.message_id,
            "time": str(int(time.time() * 1000)),
            "topic": frame.topic,
        }
        text = json.dumps(
            {
                "specVersion": "1.0",
                "type": frame.kind,
                "headers": headers,
                "data": json.dumps(frame.data, ensure_ascii=False),
            },
            ensure_ascii=False,
        )
        frame.deliveries += 1
        frame.sent_at = frame.sent_at or time.monotonic()
        connection.in_flight.add(frame.message_id)
        if frame.kind == "CALLBACK":
            assert self._loop is not None
            self._loop.call_later(self.redeliver_after, self._redeliver_if_unacked, frame)
        try:
            async with connection.sending:
                if connection.closed_at is not None:
                    raise ConnectionResetError("the connection closed before the frame went")
                await connection.socket.send_str(text)
        except (ConnectionError, RuntimeError):
            # Never reached the bot: queue it for the next connection (the one that is
            # closing delivers the queue to whoever is still up once it is gone).
            connection.in_flight.discard(frame.message_id)
            if frame.kind == "CALLBACK" and frame.message_id not in self._queue:
                self._queue.append(frame.message_id)

    def _redeliver_if_unacked(self, frame: Frame) -> None:
        if frame.acked_at is None and frame.message_id not in self._queue:
            self._queue.append(frame.message_id)
            self._deliver_queued()

    async def _open_connection(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (body.get("clientId"), body.get("clientSecret")) != (
            self.client_id,
            self.client_secret,
        ):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        endpoint = self.url.replace("http://", "ws://", 1) + "/gateway"
        return web.json_response({"endpoint": endpoint, "ticket": ticket})

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=403, text="bad ticket")
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(next(self._ids), socket, request, time.monotonic())
        self._note(lambda: self.connections.append(connection))
        self._deliver_queued()
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    self._take_ack(connection, json.loads(message.data))
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self._closed(connection)
        return socket

    def _take_ack(self, connection: Connection, ack: dict[str, Any]) -> None:
        frame_id = str(ack.get("headers", {}).get("messageId", ""))
        frame = self.frames.get(frame_id)
        connection.in_flight.discard(frame_id)
        if frame is None or ack.get("code") != 200 or frame.acked_at is not None:
            return

        def acked() -> None:
            frame.acked_at = time.monotonic()
            frame.ack = ack

        self._note(acked)

    def _closed(self, connection: Connection) -> None:
        def close() -> None:
            connection.closed_at = time.monotonic()
            for frame_id in connection.in_flight:
                frame = self.frames.get(frame_id)
                if frame is not None and frame.kind == "CALLBACK" and frame.acked_at is None:
                    self._queue.append(frame_id)
            connection.in_flight.clear()

        self._note(close)
        self._deliver_queued()

    # -- the OpenAPI ----------------------------------------------------------------------

    async def _access_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (body.get("appKey"), body.get("appSecret")) != (self.client_id, self.client_secret):
            return web.json_response({"code": "invalidClientIdOrSecret"}, status=400)
        token = f"token-{uuid.uuid4().hex}"
        self._note(lambda: self.tokens.append(token))
        return web.json_response({"accessToken": token, "expireIn": 7200})

    def _authorized(self, request: web.Request) -> bool:
        self.requests.append((request.method, request.path))
        return request.headers.get("x-acs-dingtalk-access-token") in self.tokens

    async def _group_send(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        if body.get("robotCode") != self.client_id:
            return web.json_response({"code": "invalidParameter.robotCode"}, status=400)
        refused = self._refused_file(body)
        if refused is not None:
            return refused
        self._record_sample(str(body["openConversationId"]), body)
        return web.json_response({"processQueryKey": uuid.uuid4().hex})

    async def _single_send(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        refused = self._refused_file(body)
        if refused is not None:
            return refused
        for user in body.get("userIds", []):
            self._record_sample(f"user:{user}", body)
        return web.json_response({"processQueryKey": uuid.uuid4().hex})

    def _record_sample(self, conversation_id: str, body: dict[str, Any]) -> None:
        param = json.loads(body.get("msgParam") or "{}")
        key = body.get("msgKey")
        if key == "sampleFile":
            media = self.media[str(param["mediaId"])]
            post = Post(
                conversation_id,
                str(param.get("fileName")),
                "openapi",
                "file",
                file=media,
                file_type=str(param.get("fileType")),
            )
        else:
            markdown = key == "sampleMarkdown"
            text = str(param.get("text") if markdown else param.get("content"))
            post = Post(conversation_id, text, "openapi", "markdown" if markdown else "text")
        self._note(lambda: self.posts.append(post))

    def _refused_file(self, body: dict[str, Any]) -> web.Response | None:
        """Check a sampleFile: DingTalk's answer if it refuses it, else None."""
        if body.get("msgKey") != "sampleFile":
            return None
        if self._refuse_files:
            self._note(lambda: setattr(self, "refused_file_sends", self.refused_file_sends + 1))
            return web.json_response({"code": "ServiceUnavailable"}, status=503)
        param = json.loads(body.get("msgParam") or "{}")
        if str(param.get("mediaId")) not in self.media:
            return web.json_response({"code": "invalidParameter.mediaId"}, status=400)
        return None

    async def _upload_media(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40014, "errmsg": "不合法的access_token"})
        form = await request.post()
        media = form.get("media")
        if form.get("type") != "file" or not isinstance(media, web.FileField):
            return web.json_response({"errcode": 40004, "errmsg": "不合法的媒体文件类型"})
        uploaded = Media(f"@lA{uuid.uuid4().hex}", media.filename, media.file.read())

        def keep() -> None:
            self.media[uploaded.media_id] = uploaded
            self.uploads.append(uploaded)

        self._note(keep)
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "type": "file",
                "media_id": uploaded.media_id,
                "created_at": int(time.time() * 1000),
            }
        )

    async def _session_webhook(self, request: web.Request) -> web.Response:
        session = request.query.get("session", "")
        conversation_id = self._sessions.get(session)
        if conversation_id is None or session in self._expired_sessions:
            return web.json_response(EXPIRED)
        if self._throttle > 0:

            def throttled() -> None:
                self._throttle -= 1
                self.throttled_answers += 1

            self._note(throttled)
            return web.json_response(THROTTLED)
        body = await request.json()
        msgtype = body.get("msgtype", "text")
        text = body["markdown"]["text"] if msgtype == "markdown" else body["text"]["content"]
        at = tuple(body.get("at", {}).get("atUserIds") or ())
        post = Post(conversation_id, text, "webhook", msgtype, at)
        self._note(lambda: self.posts.append(post))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _create_card(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        space = str(body.get("openSpaceId", ""))
        # A group's card is delivered by the group's robot, a single chat's by the robot
        # the member chats with: each names the robot's code in its deliver model.
        if space.startswith("dtv1.card//IM_GROUP."):
            conversation_id = space.removeprefix("dtv1.card//IM_GROUP.")
            deliver = body.get("imGroupOpenDeliverModel") or {}
        elif space.startswith("dtv1.card//IM_ROBOT."):
            conversation_id = "user:" + space.removeprefix("dtv1.card//IM_ROBOT.")
            deliver = body.get("imRobotOpenDeliverModel") or {}
            if deliver.get("spaceType") != "IM_ROBOT":
                return web.json_response({"code": "invalidParameter.spaceType"}, status=400)
        else:
            return web.json_response({"code": "invalidParameter"}, status=400)
        if not body.get("cardTemplateId"):
            return web.json_response({"code": "invalidParameter"}, status=400)
        if deliver.get("robotCode") != self.client_id:
            return web.json_response({"code": "invalidParameter.robotCode"}, status=400)
        card_id = str(body["outTrackId"])
        params = dict(body.get("cardData", {}).get("cardParamMap", {}))
        if not all(isinstance(v, str) for v in params.values()):
            return web.json_response({"code": "invalidParameter.cardParamMap"}, status=400)
        if card_id not in self.cards:  # the same outTrackId again is the same card
            card = Card(
                card_id,
                str(body["cardTemplateId"]),
                conversation_id,
                params,
                str(body.get("callbackType", "")),
            )

            def deliver() -> None:
                self.cards[card_id] = card
                shown = f"[卡片] {params.get('question') or params.get('title', '')}"
                self.posts.append(Post(conversation_id, shown, "card"))

            self._note(deliver)
        return web.json_response(
            {
                "success": True,
                "result": {
                    "outTrackId": card_id,
                    "deliverResults": [
                        {"spaceType": "IM_GROUP", "spaceId": conversation_id, "success": True}
                    ],
                },
            }
        )

    async def _update_card(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        card = self.cards.get(str(body.get("outTrackId")))
        if card is None:
            return web.json_response({"code": "card.notExist"}, status=400)
        params = dict(body.get("cardData", {}).get("cardParamMap", {}))
        by_key = body.get("cardUpdateOptions", {}).get("updateCardDataByKey", False)

        def update() -> None:
            card.params = {**card.params, **params} if by_key else params
            card.updates += 1

        self._note(update)
        return web.json_response({"success": True, "result": True})

    def _apply_private(self, card: Card, user: str, answer: dict[str, Any]) -> None:
        private = answer.get("userPrivateData", {}).get("cardParamMap")
        if not private:
            return

        def apply() -> None:
            by_key = answer.get("cardUpdateOptions", {}).get("updatePrivateDataByKey", False)
            before = card.private.get(user, {}) if by_key else {}
            card.private[user] = {**before, **private}

        self._note(apply)

    def _new_webhook(self, conversation_id: str) -> str:
        session = uuid.uuid4().hex
        self._note(lambda: self._sessions.__setitem__(session, conversation_id))
        return f"{self.url}/robot/sendBySession?session={session}"


class FakeGroup:
    """A DingTalk group chat with the robot in it: members @ the robot, the test reads back."""

    def __init__(self, gateway: FakeDingTalk, conversation_id: str, title: str) -> None:
        self.gateway = gateway
        self.conversation_id = conversation_id
        self.title = title

    def message(
        self,
        name: str,
        text: str,
        *,
        admin: bool = False,
        msg_id: str | None = None,
        webhook_expires_in_ms: int = WEBHOOK_LIFETIME_MS,
    ) -> dict[str, Any]:
        """The robot message DingTalk sends when `name` writes `@协商助手 {text}` here."""
        now = int(time.time() * 1000)
        return {
            "conversationId": self.conversation_id,
            "atUsers": [{"dingtalkId": "$:LWCP_v1:$robot"}],
            "chatbotUserId": "$:LWCP_v1:$robot",
            "msgId": msg_id or f"msg{uuid.uuid4().hex}",
            "senderNick": name,
            "isAdmin": admin,
            "senderStaffId": staff_id(name),
            "sessionWebhookExpiredTime": now + webhook_expires_in_ms,
            "createAt": now,
            "senderCorpId": "dingcorp0001",
            "conversationType": "2",
            "senderId": f"$:LWCP_v1:${staff_id(name)}",
            "conversationTitle": self.title,
            "isInAtList": True,
            "sessionWebhook": self.gateway._new_webhook(self.conversation_id),
            "text": {"content": f" {text}"},
            "msgtype": "text",
            "robotCode": self.gateway.client_id,
        }

    def say(self, name: str, text: str, *, admin: bool = False, copies: int = 1) -> str:
        """`name` @-mentions the robot with `text`; returns the frame's id."""
        return self.gateway.push(ROBOT_TOPIC, self.message(name, text, admin=admin), copies=copies)

    def say_and_wait(self, name: str, text: str, *, admin: bool = False) -> None:
        """`name` says `text`, and the robot acknowledges it (it is committed)."""
        self.gateway.wait_acked([self.say(name, text, admin=admin)])

    def posts(self) -> list[Post]:
        """What reached the group so far."""
        return self.gateway.posts_to(self.conversation_id)

    def texts(self) -> Iterator[str]:
        """The text of everything that reached the group so far."""
        return (post.text for post in self.posts())

    def wait_for(self, text: str, timeout: float = 20) -> Post:
        """The first message containing `text`, waiting for it."""
        return self.gateway.wait_for_post(self.conversation_id, text, timeout)

    def card(self, timeout: float = 20) -> Card:
        """The group's poll card, waiting for it."""
        return self.gateway.card_in(self.conversation_id, timeout)

    def card_titled(self, title: str, timeout: float = 20) -> Card:
        """The group's first card whose `title` variable starts with `title`, waiting for it."""

        def found() -> Card | None:
            return next(
                (
                    card
                    for card in self.gateway.cards.values()
                    if card.conversation_id == self.conversation_id
                    and card.params.get("title", "").startswith(title)
                ),
                None,
            )

        return self.gateway.wait_until(found, timeout, f"a card 「{title}」")

    def files(self) -> list[Post]:
        """The file messages that reached the group so far."""
        return [post for post in self.posts() if post.msgtype == "file"]

    def wait_for_file(self, timeout: float = 30) -> Post:
        """The first file message of the group, waiting for it."""
        return self.gateway.wait_until(
            lambda: next(iter(self.files()), None), timeout, f"a file in {self.conversation_id}"
        )


class FakeSingleChat(FakeGroup):
    """A member's single chat with the robot: every message reaches it, no @ needed."""

    def __init__(self, gateway: FakeDingTalk, conversation_id: str, name: str) -> None:
        super().__init__(gateway, conversation_id, "")
        self.name = name

    @property
    def staff_id(self) -> str:
        """The member's staff id (where the robot's one-to-one sends and cards go)."""
        return staff_id(self.name)

    def message(self, name: str, text: str, **kwargs: Any) -> dict[str, Any]:
        """What DingTalk sends when the member writes `text` to the robot."""
        data = super().message(name, text, **kwargs)
        data.update(conversationType="1", atUsers=[], isInAtList=False)
        data.pop("conversationTitle", None)
        data["text"] = {"content": text}
        return data

    def speak(self, recognition: str) -> str:
        """The member sends a voice message that DingTalk transcribed as `recognition`;
        returns the frame's id."""
        data = self.message(self.name, "")
        del data["text"]
        data["msgtype"] = "audio"
        data["content"] = {
            "duration": "3200",
            "downloadCode": f"dc{uuid.uuid4().hex}",
            "recognition": recognition,
        }
        return self.gateway.push(ROBOT_TOPIC, data)

    def posts(self) -> list[Post]:
        """What reached the member: in the chat (webhook) or one-to-one (OpenAPI, cards)."""
        return [
            *self.gateway.posts_to(self.conversation_id),
            *self.gateway.posts_to(f"user:{self.staff_id}"),
        ]

    def wait_for(self, text: str, timeout: float = 20) -> Post:
        """The first message to the member containing `text`, waiting for it."""
        return self.gateway.wait_until(
            lambda: next((p for p in self.posts() if text in p.text), None),
            timeout,
            f"「{text}」 to {self.name}",
        )

    def card(self, timeout: float = 20) -> Card:
        """The poll card delivered to the member, waiting for it."""
        return self.gateway.card_in(f"user:{self.staff_id}", timeout)

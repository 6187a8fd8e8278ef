"""WeCom's long-connection endpoint on 127.0.0.1, speaking the 智能机器人's JSON frames.

It checks the subscription, answers pings and sends with receipts, pushes members' messages,
card clicks and enter_chat events, takes chunked uploads (init, chunks, finish: checked for
size, count and MD5, kept so a test can open the file a chat received), and kicks out an
older connection when a newer one subscribes with the same bot id, as WeCom does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID = "aibot-xieshang"
SECRET = "long-connection-secret"
_ids = itertools.count(1)

Frame = dict[str, Any]
CHUNK_LIMIT = 512 * 1024


@dataclass
class Upload:
    """A chunked upload: announced, then filled chunk by chunk."""

    filename: str
    total_size: int
    total_chunks: int
    md5: str
    chunks: dict[int, bytes] = field(default_factory=dict)


class FakeWeComServer:
    """The platform side of the long connection; records every frame the bot sends."""

    def __init__(self, bot_id: str = BOT_ID, secret: str = SECRET) -> None:
        self.bot_id = bot_id
        self.secret = secret
        self.received: list[Frame] = []
        self.received_at: list[float] = []  # time.perf_counter() of each, for bench/
        # Distinct msgids of the messages and clicks pushed to the bot.
        self.pushed: set[str] = set()
        self.subscriptions = 0
        self.kicked_out = 0
        # Errors to answer the next sends with, e.g. (45009, "api freq out of limit").
        self.refusals: deque[tuple[int, str]] = deque()
        self.current: web.WebSocketResponse | None = None
        # Finished uploads by media id: (file name, bytes).
        self.media: dict[str, tuple[str, bytes]] = {}
        self._uploads: dict[str, Upload] = {}
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns the websocket URL."""
        app = web.Application()
        app.router.add_get("/", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/"
        return self.url

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for raw in ws:
            if raw.type != WSMsgType.TEXT:
                break
            frame = json.loads(raw.data)
            await self._answer(ws, frame)
        if self.current is ws:
            self.current = None
        return ws

    async def _answer(self, ws: web.WebSocketResponse, frame: Frame) -> None:
        req_id = frame["headers"]["req_id"]
        self.received.append(frame)
        self.received_at.append(time.perf_counter())
        self._arrived.set()
        if frame["cmd"] == "aibot_subscribe":
            body = frame["body"]
            if (body["bot_id"], body["secret"]) != (self.bot_id, self.secret):
                await ws.send_json(
                    {"headers": {"req_id": req_id}, "errcode": 40058, "errmsg": "bad"}
                )
                return
            self.subscriptions += 1
            old, self.current = self.current, ws
            if old is not None and not old.closed:
                self.kicked_out += 1
                await old.send_json(_kick_out())
                await old.close()
        elif ws is not self.current:
            await ws.send_json({"headers": {"req_id": req_id}, "errcode": 40001, "errmsg": "no"})
            return
        elif frame["cmd"].startswith("aibot_upload_media_"):
            await ws.send_json({"headers": {"req_id": req_id}, **self._upload(frame)})
            return
        code, message = self.refusals.popleft() if self.refusals and _is_send(frame) else (0, "ok")
        await ws.send_json({"headers": {"req_id": req_id}, "errcode": code, "errmsg": message})

    def _upload(self, frame: Frame) -> Frame:
        """The receipt of an upload frame, as WeCom's documented protocol answers it."""
        body = frame["body"]
        cmd = frame["cmd"]
        if cmd == "aibot_upload_media_init":
            if body["type"] not in ("file", "image", "voice", "video"):
                return {"errcode": 40004, "errmsg": "invalid media type"}
            if not 1 <= body["total_chunks"] <= 100 or body["total_size"] < 5:
                return {"errcode": 40009, "errmsg": "invalid media size"}
            upload_id = f"upload-{next(_ids)}"
            self._uploads[upload_id] = Upload(
                body["filename"], body["total_size"], body["total_chunks"], body["md5"]
            )
            return {"errcode": 0, "errmsg": "ok", "body": {"upload_id": upload_id}}
        upload = self._uploads.get(body.get("upload_id", ""))
        if upload is None:
            return {"errcode": 40001, "errmsg": "invalid upload_id"}
        if cmd == "aibot_upload_media_chunk":
            chunk = base64.b64decode(body["base64_data"])
            index = body["chunk_index"]
            if len(chunk) > CHUNK_LIMIT or not 0 <= index < upload.total_chunks:
                return {"errcode": 40009, "errmsg": "invalid chunk"}
            upload.chunks[index] = chunk
            return {"errcode": 0, "errmsg": "ok"}
        content = b"".join(upload.chunks[i] for i in sorted(upload.chunks))
        complete = len(upload.chunks) == upload.total_chunks
        if not complete or len(content) != upload.total_size:
            return {"errcode": 40009, "errmsg": "chunks missing"}
        if hashlib.md5(content, usedforsecurity=False).hexdigest() != upload.md5:
            return {"errcode": 40009, "errmsg": "md5 mismatch"}
        media_id = f"media-{next(_ids)}"
        self.media[media_id] = (upload.filename, content)
        del self._uploads[body["upload_id"]]
        return {
            "errcode": 0,
            "errmsg": "ok",
            "body": {"type": "file", "media_id": media_id, "created_at": str(int(time.time()))},
        }

    async def push(self, cmd: str, body: Frame) -> str:
        """Deliver a callback frame on the current connection; returns its req_id."""
        assert self.current is not None, "no bot is connected"
        req_id = f"req-{next(_ids)}"
        self.pushed.add(body["msgid"])
        await self.current.send_json({"cmd": cmd, "headers": {"req_id": req_id}, "body": body})
        return req_id

    async def push_raw(self, data: str) -> None:
        """Send anything at all on the current connection (a broken or unknown frame)."""
        assert self.current is not None, "no bot is connected"
        await self.current.send_str(data)

    async def member_says(
        self, userid: str, content: str, *, chatid: str = "wrGROUP1", msgid: str | None = None
    ) -> str:
        """A member @s the bot in a group; returns the callback's req_id."""
        return await self.push(
            "aibot_msg_callback",
            {
                "msgid": msgid or f"msg-{next(_ids)}",
                "aibotid": self.bot_id,
                "chatid": chatid,
                "chattype": "group",
                "from": {"userid": userid},
                "msgtype": "text",
                "text": {"content": f"@协商助手 {content}"},
            },
        )

    async def member_submits(
        self,
        userid: str,
        card: Frame,
        options: list[str],
        *,
        chatid: str = "wrGROUP1",
        msgid: str | None = None,
        flat: bool = False,
    ) -> str:
        """A member ticks options on a vote card and submits; returns the event's req_id.

        `flat` uses the long-connection SDK's spelling (fields directly in `event`) instead
        of the documented nesting under `event.template_card_event`.
        """
        details = {
            "card_type": "vote_interaction",
            "event_key": card["submit_button"]["key"],
            "task_id": card["task_id"],
            "selected_items": {
                "selected_item": [
                    {
                        "question_key": card["checkbox"]["question_key"],
                        "option_ids": {"option_id": options},
                    }
                ]
            },
        }
        if flat:
            details["selected_items"] = [
                {"question_key": card["checkbox"]["question_key"], "option_ids": options}
            ]
            event = {"event_type": "template_card_event", **details}
        else:
            event = {"eventtype": "template_card_event", "template_card_event": details}
        return await self.push(
            "aibot_event_callback",
            {
                "msgid": msgid or f"evt-{next(_ids)}",
                "aibotid": self.bot_id,
                "chatid": chatid,
                "chattype": "group",
                "from": {"userid": userid},
                "msgtype": "event",
                "event": event,
            },
        )

    async def member_presses(
        self, userid: str, card: Frame, text: str, *, chatid: str = "wrGROUP1"
    ) -> str:
        """A member presses the button labelled `text` on a button_interaction card; WeCom
        calls back with that button's key as `event_key` and the card's `task_id`."""
        [key] = [button["key"] for button in card["button_list"] if button["text"] == text]
        details = {"card_type": "button_interaction", "event_key": key, "task_id": card["task_id"]}
        return await self.push(
            "aibot_event_callback",
            {
                "msgid": f"evt-{next(_ids)}",
                "aibotid": self.bot_id,
                "chatid": chatid,
                "chattype": "group",
                "from": {"userid": userid},
                "msgtype": "event",
                "event": {"eventtype": "template_card_event", "template_card_event": details},
            },
        )

    async def member_enters(self, userid: str) -> str:
        """A member opens their single chat with the bot (the day's first visit); returns
        the event's req_id, which a welcome must answer within 5 s. The bot keeps no record
        of it, so it is not among the `pushed` messages the bot must record."""
        msgid = f"enter-{next(_ids)}"
        req_id = await self.push(
            "aibot_event_callback",
            {
                "msgid": msgid,
                "create_time": int(time.time()),
                "aibotid": self.bot_id,
                "chattype": "single",
                "from": {"userid": userid},
                "msgtype": "event",
                "event": {"eventtype": "enter_chat"},
            },
        )
        self.pushed.discard(msgid)
        return req_id

    def files(self) -> list[tuple[Frame, str, bytes]]:
        """Every file message the bot sent, with the name and bytes of what it shows."""
        return [
            (frame, *self.media[frame["body"]["file"]["media_id"]])
            for frame in self.received
            if _is_send(frame) and frame["body"].get("msgtype") == "file"
        ]

    def sent(self, cmd: str) -> list[Frame]:
        """Every frame of one command the bot sent, in order."""
        return [frame for frame in self.received if frame["cmd"] == cmd]

    async def wait_for(self, matches: Callable[[Frame], bool], *, count: int = 1) -> list[Frame]:
        """The first `count` frames the bot sent that match, waiting (up to 15 s) for them."""
        async with asyncio.timeout(15):
            while True:
                found = [frame for frame in self.received if matches(frame)]
                if len(found) >= count:
                    return found[:count]
                self._arrived.clear()
                await self._arrived.wait()

    async def drop_connection(self) -> None:
        """Close the bot's connection from WeCom's side, as a network failure would."""
        if self.current is not None:
            await self.current.close()


def _is_send(frame: Frame) -> bool:
    return frame["cmd"] in ("aibot_respond_msg", "aibot_send_msg", "aibot_respond_update_msg")


def _kick_out() -> Frame:
    return {
        "cmd": "aibot_event_callback",
        "headers": {"req_id": f"kick-{next(_ids)}"},
        "body": {
            "msgid": f"kick-{next(_ids)}",
            "msgtype": "event",
            "event": {"eventtype": "disconnected_event"},
        },
    }


def replies_with(text: str) -> Callable[[Frame], bool]:
    """Matches a reply or post whose text contains `text`."""

    def matches(frame: Frame) -> bool:
        body = frame.get("body") or {}
        content = (body.get("stream") or body.get("markdown") or {}).get("content", "")
        return frame["cmd"] in ("aibot_respond_msg", "aibot_send_msg") and text in content

    return matches


def card_of(frame: Frame) -> Frame:
    """The template card a frame carries."""
    card: Frame = frame["body"]["template_card"]
    return card

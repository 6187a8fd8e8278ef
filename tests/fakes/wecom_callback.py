"""WeCom's side of callback mode on 127.0.0.1: it encrypts and signs callbacks as WeCom does,
posts them to the bot, and serves the one-shot response_urls the bot answers through.

The encryption here is written again from WeCom's description rather than taken from the
bot's module, so a mistake there cannot cancel out a mistake here.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.core.clock import Clock

TOKEN = "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
_ids = itertools.count(1)

Body = dict[str, Any]


def wecom_encrypt(aes_key: str, message: str, receive_id: str = "") -> str:
    """What WeCom puts in `encrypt`: random(16) + len(4) + msg + receive id, PKCS#7 to 32."""
    key = base64.b64decode(aes_key + "=")
    plain = os.urandom(16) + struct.pack(">I", len(message.encode())) + message.encode()
    plain += receive_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def wecom_decrypt(aes_key: str, encrypted: str) -> str:
    """What WeCom reads from the bot's passive reply."""
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length].decode()


def wecom_sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: SHA-1 over the sorted token, timestamp, nonce and ciphertext."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class FakeWeComCallbacks:
    """WeCom calling the bot's endpoint, and the response_url service the bot calls back."""

    def __init__(self, clock: Clock, token: str = TOKEN, aes_key: str = AES_KEY) -> None:
        self.clock = clock
        self.token = token
        self.aes_key = aes_key
        # What the bot posted to response_urls, in order; a second post to one is refused.
        self.responses: list[Body] = []
        self.reused: list[str] = []
        self._issued: set[str] = set()
        self._used: set[str] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.origin = ""
        self.bot_url = ""

    async def start(self) -> None:
        """Serve response_urls on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/cgi-bin/aibot/response", self._response)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.origin = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Stop serving."""
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self) -> str:
        """A fresh one-shot response_url, as WeCom puts in each message callback."""
        code = f"code{next(_ids)}"
        self._issued.add(code)
        return f"{self.origin}/cgi-bin/aibot/response?response_code={code}"

    async def _response(self, request: web.Request) -> web.Response:
        code = request.query.get("response_code", "")
        if code not in self._issued or code in self._used:
            self.reused.append(code)
            return web.json_response({"errcode": 600039, "errmsg": "response_code used"})
        self._used.add(code)
        self.responses.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def signed_query(
        self, encrypted: str, *, signature: str | None = None, age: int = 0
    ) -> dict[str, str]:
        """The query string WeCom adds: msg_signature, timestamp and nonce."""
        timestamp = str(int(self.clock.now().timestamp()) - age)
        nonce = str(next(_ids) * 7919)
        return {
            "msg_signature": signature or wecom_sign(self.token, timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }

    async def verify_url(self, echo: str, *, signature: str | None = None) -> tuple[int, str]:
        """The GET WeCom sends when the admin saves the callback URL."""
        assert self._session is not None
        encrypted = wecom_encrypt(self.aes_key, echo)
        query = self.signed_query(encrypted, signature=signature) | {"echostr": encrypted}
        async with self._session.get(self.bot_url, params=query) as response:
            return response.status, await response.text()

    async def post(
        self,
        body: Body,
        *,
        signature: str | None = None,
        age: int = 0,
        receive_id: str = "",
    ) -> tuple[int, Body | None]:
        """Encrypt, sign and post one callback; the bot's status and decrypted reply."""
        assert self._session is not None
        encrypted = wecom_encrypt(self.aes_key, json.dumps(body, ensure_ascii=False), receive_id)
        query = self.signed_query(encrypted, signature=signature, age=age)
        async with self._session.post(
            self.bot_url, params=query, json={"encrypt": encrypted}
        ) as response:
            text = await response.text()
            if response.status != 200 or not text:
                return response.status, None
            envelope = json.loads(text)
        expected = wecom_sign(
            self.token, str(envelope["timestamp"]), envelope["nonce"], envelope["encrypt"]
        )
        assert envelope["msgsignature"] == expected, "the bot's reply is not signed right"
        reply: Body = json.loads(wecom_decrypt(self.aes_key, envelope["encrypt"]))
        return response.status, reply

    def message(
        self,
        userid: str,
        content: str,
        *,
        chatid: str = "wrGROUP1",
        msgid: str | None = None,
        response_url: str | None = None,
    ) -> Body:
        """A member @-ing the bot in a group, as the decrypted callback reads."""
        return {
            "msgid": msgid or f"msg-{next(_ids)}",
            "aibotid": "aibot-xieshang",
            "chatid": chatid,
            "chattype": "group",
            "from": {"userid": userid},
            "response_url": response_url or self.response_url(),
            "msgtype": "text",
            "text": {"content": f"@协商助手 {content}"},
        }

    def card_submit(
        self, userid: str, card: Body, options: list[str], *, msgid: str | None = None
    ) -> Body:
        """A member submitting a vote card, nested as the callback documentation spells it."""
        return {
            "msgid": msgid or f"evt-{next(_ids)}",
            "create_time": int(self.clock.now().timestamp()),
            "aibotid": "aibot-xieshang",
            "chatid": "wrGROUP1",
            "chattype": "group",
            "from": {"userid": userid},
            "msgtype": "event",
            "event": {
                "eventtype": "template_card_event",
                "template_card_event": {
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
                },
            },
        }

    def button_press(self, userid: str, card: Body, text: str) -> Body:
        """A member pressing the button labelled `text` on a button_interaction card: the
        callback carries the button's key as `event_key`, as WeCom documents it."""
        [key] = [button["key"] for button in card["button_list"] if button["text"] == text]
        return {
            "msgid": f"evt-{next(_ids)}",
            "create_time": int(self.clock.now().timestamp()),
            "aibotid": "aibot-xieshang",
            "chatid": "wrGROUP1",
            "chattype": "group",
            "from": {"userid": userid},
            "msgtype": "event",
            "event": {
                "eventtype": "template_card_event",
                "template_card_event": {
                    "card_type": "button_interaction",
                    "event_key": key,
                    "task_id": card["task_id"],
                },
            },
        }

    def enter_chat(self, userid: str) -> Body:
        """A member opening their single chat with the bot, as the decrypted event reads."""
        return {
            "msgid": f"enter-{next(_ids)}",
            "create_time": int(self.clock.now().timestamp()),
            "aibotid": "aibot-xieshang",
            "chattype": "single",
            "from": {"userid": userid},
            "msgtype": "event",
            "event": {"eventtype": "enter_chat"},
        }

    def responses_matching(self, matches: Callable[[Body], bool]) -> list[Body]:
        """The bodies the bot posted to response_urls that match."""
        return [body for body in self.responses if matches(body)]


def markdown_with(text: str) -> Callable[[Body], bool]:
    """Matches a markdown reply containing `text`."""
    return lambda body: body.get("msgtype") == "markdown" and text in body["markdown"]["content"]

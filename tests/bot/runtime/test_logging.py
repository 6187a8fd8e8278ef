"""What the bot writes to its log: JSON records with their ids, and never a secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from bot.core.secrets import remember_secret
from bot.runtime.secrets import RedactingFormatter
from tests.bot.adapters.test_dingtalk import bot_env
from tests.fakes.bot import BotProcess
from tests.fakes.dingtalk import ROBOT_TOPIC, FakeDingTalk


def test_a_secret_is_blanked_in_messages_and_tracebacks() -> None:
    remember_secret("s3cr3t-for-the-formatter")
    formatter = RedactingFormatter(logging.Formatter("%(message)s"))
    try:
        raise ValueError("token s3cr3t-for-the-formatter refused")
    except ValueError as error:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "calling %s",
            ("/v1?t=s3cr3t-for-the-formatter",),
            (type(error), error, error.__traceback__),
        )

    text = formatter.format(record)

    assert "s3cr3t" not in text
    assert text.startswith("calling /v1?t=***")
    assert "ValueError: token *** refused" in text


def test_the_bots_json_log_names_conversations_and_holds_no_secret(tmp_path: Path) -> None:
    with FakeDingTalk() as dingtalk:
        env = bot_env(dingtalk, f"sqlite:///{tmp_path / 'xieshang.db'}", log__format="json")
        bot = BotProcess(tmp_path, env).start()
        try:
            dingtalk.wait_connected()
            group = dingtalk.group()
            dingtalk.throttle(1)  # a refused send is logged with its conversation
            group.say("张三", "/投 1")
            group.wait_for("没有进行中的协商")
            message = group.message("李四", "/投 2")
            dingtalk.expire_webhooks()  # the reply goes by OpenAPI, with an access token
            dingtalk.push(ROBOT_TOPIC, message)
            group.wait_for("李四：")
        finally:
            bot.stop()
        secrets = [dingtalk.client_secret, *dingtalk.tokens, bot.env["XIESHANG_BALLOT_SECRET"]]

    lines = bot.log().splitlines()
    records = [json.loads(line) for line in lines]
    refused = [r for r in records if "refused" in r["message"]]

    assert dingtalk.tokens  # an access token was handed out, so there was one to leak
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert refused
    assert refused[0]["conversation_id"] == group.conversation_id
    assert refused[0]["platform"] == "dingtalk"
    assert not [line for line in lines if any(secret in line for secret in secrets)]

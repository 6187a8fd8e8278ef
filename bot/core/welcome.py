"""What the bot says to someone who opens a chat with it (WeCom's enter_chat event), answered
at once by the adapter: WeCom takes a welcome only within 5 seconds of the event, too soon
to wait for the outbox and the group's rate limit."""

from __future__ import annotations

WELCOME = (
    "你好，我是协商助手，协助开展“请你来协商”：发表意见建议、附议、投票、"
    "查看纪要和办理进度。\n"
    "在群里 @协商助手 并发送 /帮助 查看你可用的命令；在这里也可以直接发送 /帮助。"
)

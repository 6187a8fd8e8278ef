"""DingTalk in Stream mode, through the official `dingtalk-stream` SDK.

May import: `bot.core`, `bot.delivery`.
"""

from bot.adapters.dingtalk.adapter import DingTalkAdapter, adapter_from_environment

__all__ = ["DingTalkAdapter", "adapter_from_environment"]

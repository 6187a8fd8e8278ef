"""The local web chat: the embedded default platform, for trying the bot with no
credentials.

May import: `bot.core`, `bot.delivery`.
"""

from bot.adapters.local.adapter import LocalAdapter

__all__ = ["LocalAdapter"]

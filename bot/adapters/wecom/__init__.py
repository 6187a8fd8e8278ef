"""WeCom (企业微信) 智能机器人: the long connection and the callback mode.

May import: `bot.core`, `bot.delivery`.
"""

from bot.adapters.wecom.adapter import WeComCallback, WeComLongConnection, wecom_from_environment

__all__ = ["WeComCallback", "WeComLongConnection", "wecom_from_environment"]

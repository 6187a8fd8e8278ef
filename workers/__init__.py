"""Background work off the message path: sentence vectors, minutes builds, and the
OpenAI-compatible model endpoints they may call.

May import: `bot.core`, `storage`, `minutes`, `reports`.
"""

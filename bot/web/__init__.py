"""The secretary console's pages, served by `xieshang run` beside the local chat.

May import: `bot.core`, `bot.runtime`, `storage`, `reports`.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")

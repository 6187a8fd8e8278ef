"""The web pages served by `xieshang run`: the local chat and the secretary console."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")

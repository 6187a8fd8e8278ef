"""The stored minutes as formatted text in the console: Markdown rendered on the server with
raw HTML escaped (member text in the minutes is escaped before it gets there, as for the
group)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from markupsafe import Markup

# The minutes' last line tells the group where the full text is ("完整纪要（Word 版）可由秘书
# 在协商助手后台下载…"). The secretary reading the console is there, with the download link
# above the text, so the console leaves that line out. Matched by its opening words: the
# stored versions are immutable and keep the line as it was written then.
_WHERE_THE_FULL_TEXT_IS = re.compile(r"\n+完整纪要（[^\n]*\s*$")


@cache
def _renderer() -> Any:
    # Imported on first use: it takes a tenth of a second, and the bot's start is measured.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image")


def minutes_html(markdown: str) -> Markup:
    """The minutes' Markdown as HTML, without the line that points to the console itself."""
    return Markup(str(_renderer().render(_WHERE_THE_FULL_TEXT_IS.sub("\n", markdown))))

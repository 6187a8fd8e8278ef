"""What the browser tests share: Debian's chromium under Playwright, a free port, the wait
for a bot to serve, and the checks a page must pass on a phone and on a desk."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fakes.bot import BotProcess

CHROMIUM = Path("/usr/bin/chromium")
# Kept out of git: a run should leave the tree clean. docs/screenshots/ holds copies of
# the ones the docs show (docs/screenshots/README.md says how to refresh them).
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}

# Every element whose box reaches past the viewport, unless a box around it scrolls or
# clips it (a wide table scrolling inside its card is fine; one that widens the page is
# not). Reported as "tag#id.class (left..right)".
BEYOND_THE_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if ((box.right > width + 1 || box.left < -1) && !clipped(element)) {
      const name = `${element.tagName.toLowerCase()}#${element.id}.${element.className}`;
      found.push(`${name} (${Math.round(box.left)}..${Math.round(box.right)})`);
    }
  }
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) found.push(`page ${page}px`);
  return found;
}"""

# Text a reader sees that is still Markdown source: a heading's ###, emphasis's **, a
# quote's > at the start of a line.
RAW_MARKDOWN = r"(^|\n)\s*(#{1,6} |> )|\*\*"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(base: str, bot: BotProcess, timeout: float = 60) -> None:
    """Poll /healthz until the bot answers (it upgrades its database first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert bot.running, bot.log()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)  # a poll of a condition, not a wait standing in for one
    raise AssertionError("the bot did not start:\n" + bot.log())


def launch_chromium() -> Iterator[Browser]:
    """Debian's chromium under Playwright (never a downloaded browser build)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs /usr/bin/chromium: `make test` installs it with apt-get")
        pytest.skip("Debian chromium is missing and could not be installed (make test tries)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


def screenshot_path(name: str) -> Path:
    """Where the screenshot `name` is kept."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Keep a screenshot of what the user sees (a page with a fixed header and footer, as
    the chat, is taken as the screen shows it)."""
    page.screenshot(path=str(screenshot_path(name)), full_page=full_page)


def beyond_the_viewport(page: Page) -> list[str]:
    """Elements wider than the page's viewport (empty when everything fits)."""
    found: list[str] = page.evaluate(BEYOND_THE_VIEWPORT)
    return found

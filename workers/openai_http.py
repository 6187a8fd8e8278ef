"""Asking an OpenAI-compatible endpoint (chat completions, embeddings) over aiohttp, with
retries from tenacity: what the minutes' optional language model and optional embeddings
endpoint share."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential


class TransientError(Exception):
    """Worth another try: a timeout, a lost connection, a 5xx or 429 answer."""


class UnusableAnswer(Exception):
    """Not worth another try: a 4xx answer or a reply that is not the JSON asked for."""


async def ask_json(
    url: str, request: dict[str, Any], *, key: str | None, timeout_seconds: float, attempts: int
) -> Any:
    """POST `request` to an OpenAI-compatible endpoint and return its JSON answer. A timeout,
    a lost connection, a 5xx or a 429 is tried again, `attempts` tries in all; then, or on
    any other failure, TransientError or UnusableAnswer (whose text never holds the key)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer: Any = None
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt:
                answer = await post_json(http, url, headers, request)
    return answer


async def post_json(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], request: dict[str, Any]
) -> Any:
    """One POST: its JSON answer, or TransientError / UnusableAnswer."""
    try:
        async with http.post(url, json=request, headers=headers) as response:
            if response.status >= 500 or response.status == 429:
                raise TransientError(f"HTTP {response.status}")
            if response.status >= 400:
                raise UnusableAnswer(f"HTTP {response.status}")
            return await response.json(content_type=None)
    except TimeoutError as error:
        raise TransientError("timeout") from error
    except aiohttp.ClientConnectionError as error:
        raise TransientError(f"connection failed ({type(error).__name__})") from error
    except (aiohttp.ContentTypeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UnusableAnswer("the answer is not JSON") from error

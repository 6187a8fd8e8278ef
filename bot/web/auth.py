"""Who may use the secretary console: tokens, sessions, CSRF, and the sign-in rate limit.

Sessions are aiohttp-session's encrypted cookies (Fernet, from `cryptography`): nothing to
store server-side, HttpOnly and SameSite=Strict, Secure when served over HTTPS.

CSRF is a small middleware of our own rather than aiohttp-csrf: that package has had no
release since 2020. The rule is the usual synchroniser token: a random token kept in the
session, put in every form, and compared (hmac.compare_digest) on every unsafe request.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.core.ratelimit import SlidingWindowLimiter, Window
from bot.core.secrets import env_secret
from bot.core.settings import ConsoleSettings
from storage.console_users import ConsoleRole, hash_token

log = logging.getLogger(__name__)

CONSOLE_SECRET = "XIESHANG_CONSOLE_SECRET"
COOKIE = "xieshang_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
USER_KEY = "user"
CSRF_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed-in console user. `stamp` is a prefix of their token's hash: a new token
    (or a removed user) ends the sessions signed in with the old one."""

    name: str
    role: ConsoleRole
    user_id: int | None
    stamp: str

    @property
    def may_change(self) -> bool:
        """Whether this user may change anything (secretaries; leaders only read)."""
        return self.role is ConsoleRole.SECRETARY

    def to_session(self) -> dict[str, Any]:
        """What the session cookie keeps of the user."""
        return {"name": self.name, "role": self.role.value, "id": self.user_id, "stamp": self.stamp}

    @classmethod
    def from_session(cls, data: Any) -> Identity | None:
        """The identity kept in a session, or None when there is none (or it is malformed)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                name=str(data["name"]),
                role=ConsoleRole(data["role"]),
                user_id=int(data["id"]) if data.get("id") is not None else None,
                stamp=str(data["stamp"]),
            )
        except (KeyError, ValueError):
            return None


def stamp_of(token_hash: str) -> str:
    """The part of a token's hash a session keeps."""
    return token_hash[:16]


class ConfiguredUsers:
    """Users named in config, with the hashes of the tokens their environment variables hold."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self._users: list[tuple[str, ConsoleRole, str]] = []
        for entry in settings.users:
            token = env_secret(entry.token_env)
            if token is None:
                # The variable's name is not secret; its value is never logged.
                log.warning(
                    "控制台用户 %s 的令牌变量 %s 未设置，无法登录", entry.name, entry.token_env
                )
                continue
            self._users.append((entry.name, ConsoleRole(entry.role), hash_token(token)))

    def identify(self, token: str) -> Identity | None:
        """The configured user whose token this is (every entry compared, in constant time)."""
        presented = hash_token(token)
        found = None
        for name, role, stored in self._users:
            if hmac.compare_digest(presented, stored):
                found = Identity(name, role, None, stamp_of(stored))
        return found

    def names(self) -> list[tuple[str, ConsoleRole]]:
        """(name, role) of the configured users who can sign in."""
        return [(name, role) for name, role, _ in self._users]

    def still_valid(self, identity: Identity) -> bool:
        """Whether a configured user's session still matches config and the environment."""
        return any(
            name == identity.name and role is identity.role and stamp_of(stored) == identity.stamp
            for name, role, stored in self._users
        )


class SignInGuard:
    """Counts wrong tokens per client address; beyond the limit sign-in answers 429."""

    def __init__(self, failures_per_minute: int) -> None:
        self._failures = SlidingWindowLimiter([Window(failures_per_minute, timedelta(minutes=1))])

    def retry_after(self, address: str, now: datetime) -> float:
        """Seconds until this address may try again (0: it may try now)."""
        return self._failures.wait(address, now)

    def failed(self, address: str, now: datetime) -> None:
        """Count a wrong token from this address."""
        self._failures.record(address, now)


def client_address(request: web.Request) -> str:
    """The peer's address (behind a proxy, the proxy's: docs/console.md says so)."""
    return request.remote or "unknown"


def _served_over_https(request: web.Request) -> bool:
    if request.secure:
        return True
    # A TLS proxy on this machine says so; anyone else could forge the header.
    proxied = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    return proxied and client_address(request) in ("127.0.0.1", "::1")


class ConsoleCookies(EncryptedCookieStorage):
    """Encrypted session cookies that are Secure whenever the page is served over HTTPS."""

    def __init__(self, key: bytes, *, settings: ConsoleSettings) -> None:
        super().__init__(
            key,
            cookie_name=COOKIE,
            max_age=int(settings.session_hours * 3600),
            path="/console",
            httponly=True,
            samesite="Strict",
        )
        self._secure = settings.secure_cookies

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        """Save as usual, then mark the cookie Secure when the request came over HTTPS."""
        await super().save_session(request, response, session)
        secure = self._secure == "always" or (
            self._secure == "auto" and _served_over_https(request)
        )
        if secure and COOKIE in response.cookies:
            response.cookies[COOKIE]["secure"] = True


def session_key() -> bytes:
    """The key that encrypts session cookies: XIESHANG_CONSOLE_SECRET (any text, hashed to
    32 bytes), or a random one, so sign-ins then last until the bot restarts."""
    configured = env_secret(CONSOLE_SECRET)
    if configured is None:
        return secrets.token_bytes(32)
    import hashlib

    return hashlib.sha256(configured.encode()).digest()


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, made on first use."""
    session = await get_session(request)
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse every unsafe request whose form field or header does not carry the session's
    CSRF token (403, before the handler runs)."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    session = await get_session(request)
    expected = session.get(CSRF_KEY)
    presented = request.headers.get(CSRF_HEADER, "")
    if not presented and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        presented = str((await request.post()).get(CSRF_FIELD, ""))
    if not (
        isinstance(expected, str)
        and expected
        and presented
        and hmac.compare_digest(presented.encode(), expected.encode())
    ):
        raise web.HTTPForbidden(text="请求缺少有效的安全令牌（CSRF），请刷新页面后重试。")
    return await handler(request)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No framing, no inline scripts, no caching of pages with members' words."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _secure_headers(response)
        raise
    _secure_headers(response)
    return response


def _secure_headers(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")

"""Who may use the secretary console, and from where: tokens, sessions, the request guard
(Host, Origin, content type), CSRF, and the sign-in rate limit. docs/security.md tells the
whole story.

The cookie is aiohttp-session's encrypted cookie (Fernet, from `cryptography`), HttpOnly
and SameSite=Strict, Secure when served over HTTPS. It carries the CSRF token and a random
session key; who is signed in is kept server-side under the key's hash
(storage.console_users.ConsoleSession), so signing out ends the session for every copy of
the cookie.

CSRF is a small middleware of our own rather than aiohttp-csrf: that package has had no
release since 2020. The rule is the usual synchroniser token: a random token kept in the
session, put in every form, and compared (hmac.compare_digest) on every unsafe request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.core.secrets import env_secret
from bot.core.settings import ConsoleSettings, WebSettings
from storage.console_users import ConsoleRole, ConsoleSession, hash_token

log = logging.getLogger(__name__)

CONSOLE_SECRET = "XIESHANG_CONSOLE_SECRET"
COOKIE = "xieshang_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_KEY = "sid"
CSRF_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The console's forms are plain HTML forms; nothing else may change anything.
FORM = "application/x-www-form-urlencoded"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FOREIGN_HOST = (
    "拒绝访问：请求的地址（Host）不是协商助手的地址。经反向代理访问时，请把对外地址写入配置 "
    "web.public_origins。"
)
FOREIGN_ORIGIN = "拒绝访问：这个请求来自其他网站，不能在秘书工作台执行。"
NOT_A_FORM = "请求格式不对：请在秘书工作台的页面上提交表单。"
UNREADABLE_FORM = "请求格式不对：表单内容无法读取。"
SERVER_ERROR = "协商助手出了点问题，请稍后再试；如一再出现，请联系管理员。"


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

    @classmethod
    def of(cls, session: ConsoleSession) -> Identity:
        """Who a stored session belongs to."""
        return cls(session.name, session.role, session.user_id, session.stamp)


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
    """Counts wrong tokens per client address and per token tried; once either has
    `failures_per_minute` in the last minute, sign-in answers 429 for it.

    Per address, so one visitor guessing is stopped without stopping the others behind the
    same proxy (with the proxy trusted, the address is each visitor's own); per token, so a
    stale token sent again and again is stopped from wherever it comes. Our own few lines
    rather than bot.core's send limiter, because these keys are chosen by strangers: stale
    ones are dropped, so a flood of them cannot grow without end.
    """

    SPAN = timedelta(minutes=1)
    _PRUNE_AT = 4096

    def __init__(self, failures_per_minute: int) -> None:
        self._limit = failures_per_minute
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, keys: Iterable[str], now: datetime) -> float:
        """Seconds until none of these keys is over the limit (0: sign-in may be tried)."""
        wait = 0.0
        for key in keys:
            recent = [t for t in self._failures.get(key, ()) if now - t < self.SPAN]
            if len(recent) >= self._limit:
                oldest = recent[len(recent) - self._limit]
                wait = max(wait, (oldest + self.SPAN - now).total_seconds())
        return wait

    def failed(self, keys: Iterable[str], now: datetime) -> None:
        """Count a wrong token against each key."""
        if len(self._failures) >= self._PRUNE_AT:
            stale = [k for k, times in self._failures.items() if now - times[-1] >= self.SPAN]
            for key in stale:
                del self._failures[key]
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self._limit)).append(now)


def sign_in_keys(address: str, token: str) -> tuple[str, str]:
    """What a sign-in is counted under: the client's address and the token tried (hashed,
    so no token, right or wrong, stays in memory)."""
    return f"address:{address}", f"token:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


IPAddress = IPv4Address | IPv6Address


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For names the client (web.trusted_proxies)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = [ip_network(entry, strict=False) for entry in entries]

    def trusts(self, address: IPAddress | None) -> bool:
        """Whether `address` is one of the trusted proxies."""
        return address is not None and any(address in network for network in self._networks)

    def client_address(self, request: web.Request) -> str:
        """The visitor's address: the peer's, or, when the peer is a trusted proxy, the
        nearest address in X-Forwarded-For that is not itself a trusted proxy. From anyone
        else the header is ignored, so a visitor cannot choose the address they are counted
        under; a malformed header counts the visitor as the proxy."""
        peer = request.remote or "unknown"
        current = _address(peer)
        if current is None or not self.trusts(current):
            return peer
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", ())).split(",")
        for hop in reversed([entry for entry in forwarded if entry.strip()]):
            found = _address(hop)
            if found is None:
                break
            current = found
            if not self.trusts(current):
                break
        return str(current)

    def proxied_https(self, request: web.Request) -> bool:
        """Whether a proxy this bot may believe (one on this machine, or a trusted one)
        says the visitor came over HTTPS."""
        if request.headers.get("X-Forwarded-Proto", "").lower() != "https":
            return False
        peer = _address(request.remote or "")
        return peer is not None and (peer.is_loopback or self.trusts(peer))


def _host_and_port(netloc: str) -> tuple[str, int | None] | None:
    """(host, port) of `host[:port]`, lower-cased; None when it cannot be read. The
    default ports count as none, as a browser leaves them out of Origin and a proxy may
    not of Host."""
    try:
        parts = urlsplit("//" + netloc)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query:
        return None
    return host, None if port in (80, 443) else port


class Boundary:
    """Which addresses the pages answer to (Host) and which sites may send their forms
    (Origin): this machine's own names, web.host, and web.public_origins.

    The Host check stops DNS rebinding (a site whose name is pointed at 127.0.0.1 would
    otherwise be the console's "own" origin); the Origin check stops another site's page
    from posting a form with the visitor's cookie, beside SameSite and the CSRF token.
    """

    def __init__(self, settings: WebSettings) -> None:
        names = set(LOOPBACK_NAMES)
        bound = _host_and_port(settings.host)
        if bound is not None and settings.host not in ("0.0.0.0", "::"):
            names.add(bound[0])
        self._any_port = frozenset(names)
        self._origins: dict[str, tuple[str, int | None]] = {}
        for origin in settings.public_origins:
            named = _host_and_port(urlsplit(origin).netloc)
            if named is not None:
                self._origins[origin] = named

    def host_allowed(self, host: str) -> bool:
        """Whether the Host header names this bot."""
        found = _host_and_port(host)
        if found is None:
            return False
        return found[0] in self._any_port or found in self._origins.values()

    def origin_allowed(self, origin: str, host: str) -> bool:
        """Whether a form may come from `origin` (an Origin header, or a Referer's origin)
        to a request for `host`: a configured public origin, or the page's own address."""
        parts = urlsplit(origin)
        named = _host_and_port(parts.netloc)
        if parts.scheme not in ("http", "https") or named is None:
            return False  # "null" (a sandboxed frame, a local file) among them
        if f"{parts.scheme}://{parts.netloc}".lower() in self._origins:
            return True
        return named == _host_and_port(host) and self.host_allowed(host)


def request_guard(boundary: Boundary) -> Middleware:
    """A middleware that refuses, before anything is read or changed: a Host that is not
    this bot's (403), and for every request that may change something a foreign Origin or
    Referer (403), a body that is not a form (415), or a form that cannot be read (400)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not boundary.host_allowed(request.host):
            raise web.HTTPForbidden(text=FOREIGN_HOST)
        if request.method in SAFE_METHODS:
            return await handler(request)
        origin = request.headers.get("Origin")
        if origin is None and "Referer" in request.headers:
            referer = urlsplit(request.headers["Referer"])
            origin = f"{referer.scheme}://{referer.netloc}"
        # Browsers send Origin with every form; a request with neither header is no other
        # site's page, and still needs the session's CSRF token.
        if origin is not None and not boundary.origin_allowed(origin, request.host):
            log.warning("控制台拒绝了来自其他网站的请求：%s %s", request.method, request.path)
            raise web.HTTPForbidden(text=FOREIGN_ORIGIN)
        if request.content_type != FORM:
            raise web.HTTPUnsupportedMediaType(text=NOT_A_FORM)
        try:
            await request.post()  # read once here; handlers get it from aiohttp's cache
        except (ValueError, LookupError) as error:  # bad UTF-8, an unknown charset
            raise web.HTTPBadRequest(text=UNREADABLE_FORM) from error
        return await handler(request)

    return guard


@web.middleware
async def no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected error is logged with its traceback and answered with a short Chinese
    line: a page never shows the code's insides."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        log.exception("控制台处理 %s %s 时出错", request.method, request.path)
        raise web.HTTPInternalServerError(text=SERVER_ERROR) from error


class ConsoleCookies(EncryptedCookieStorage):
    """Encrypted session cookies that are Secure whenever the page is served over HTTPS."""

    def __init__(self, key: bytes, *, settings: ConsoleSettings, proxies: TrustedProxies) -> None:
        super().__init__(
            key,
            cookie_name=COOKIE,
            max_age=int(settings.session_hours * 3600),
            path="/console",
            httponly=True,
            samesite="Strict",
        )
        self._secure = settings.secure_cookies
        self._proxies = proxies

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        """Save as usual, then mark the cookie Secure when the request came over HTTPS."""
        await super().save_session(request, response, session)
        # Behind a TLS proxy only a proxy this bot may believe says so; anyone could send it.
        https = request.secure or self._proxies.proxied_https(request)
        secure = self._secure == "always" or (self._secure == "auto" and https)
        if secure and COOKIE in response.cookies:
            response.cookies[COOKIE]["secure"] = True


def session_key() -> bytes:
    """The key that encrypts session cookies: XIESHANG_CONSOLE_SECRET (any text, hashed to
    32 bytes), or a random one, so sign-ins then last until the bot restarts."""
    configured = env_secret(CONSOLE_SECRET)
    if configured is None:
        return secrets.token_bytes(32)
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

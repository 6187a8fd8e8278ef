"""The secretary console: consultations, opinions, polls, minutes, referrals and statistics
in a browser, with downloads, served by `xieshang run` under /console.

Pages are rendered on the server (Jinja2) from read-only queries run on the console's own
engine and threads, so neither pages nor exports wait for or hold up the groups.
Roles: a secretary may do everything; a leader reads and downloads (exports included,
since they change nothing) but cannot change anything: the one change the console offers,
taking a user's access away on the users page, is the secretaries'.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import aiohttp_session
import jinja2
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.settings import Settings
from bot.web import STATIC, TEMPLATES
from bot.web.auth import (
    CSRF_FIELD,
    SESSION_KEY,
    Boundary,
    ConfiguredUsers,
    ConsoleCookies,
    Identity,
    SignInGuard,
    TrustedProxies,
    csrf_middleware,
    csrf_token,
    no_tracebacks,
    request_guard,
    security_headers,
    session_key,
    sign_in_keys,
    stamp_of,
)
from bot.web.charts import bar_chart, column_chart
from bot.web.jobs import Jobs, Progress
from bot.web.markdown import minutes_html
from bot.web.minutes_source import minutes_version, minutes_versions, themes_of
from reports.cells import Score, Share
from reports.statistics import YEAR_COLUMNS, YearColumn
from reports.tables import (
    Table,
    ballots_table,
    opinions_table,
    referrals_table,
    statistics_workbook,
    table_csv,
    tables_xlsx,
)
from storage import console as queries
from storage.console_users import (
    ConsoleRole,
    close_console_session,
    console_session_by_key,
    console_user_by_id,
    console_user_by_token,
    list_console_users,
    open_console_session,
    remove_console_user_by_id,
)
from storage.database import Database
from storage.enums import OpinionKind
from storage.followup import follow_up
from storage.stats import compute_statistics
from storage.units import UnitFigures, YearTable, year_table

log = logging.getLogger(__name__)

T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
# Routes a signed-out browser is sent to the sign-in page from; the rest answer 401.
PAGES = frozenset({"consultations", "consultation", "stats", "job_page", "chat_link", "users"})
PUBLIC = frozenset({"login", "login_post"})
IDENTITY = web.RequestKey("identity", Identity)

NOT_SIGNED_IN = "请先登录秘书工作台。"
READ_ONLY = "领导账号只能查看和下载，不能修改。"
WRONG_TOKEN = "令牌不对，请检查后重试。"
TOO_MANY = "登录失败次数过多，请 {seconds} 秒后再试。"
# Ids in paths: ASCII digits, few enough for a database integer (a longer one names nothing).
ID = "[0-9]{1,9}"
# Consultations on one page of the list.
LIST_PAGE_SIZE = 50


class Console:
    """The console's routes, templates, sign-in and export jobs."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        clock: Clock,
        writer: Database,
        local_chat: bool = True,
    ) -> None:
        self.settings = settings
        self.zone: ZoneInfo = settings.zone
        self.engine = engine
        self.clock = clock
        # The console's few writes (sign-in, sign-out, removing a user) go through the
        # bot's own database threads; its engine above only reads.
        self.writer = writer
        self.local_chat = local_chat
        self.users = ConfiguredUsers(settings.console)
        self.guard = SignInGuard(settings.console.sign_in_failures_per_minute)
        self.proxies = TrustedProxies(settings.web.trusted_proxies)
        self.boundary = Boundary(settings.web)
        self.jobs = Jobs()
        # Pages read on threads of their own, so a page never queues behind the dispatcher.
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="console")
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["local"] = self._local_time
        self.templates.filters["day"] = self._local_day
        self.templates.filters["markdown"] = minutes_html

    # -- wiring ---------------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        """Mount the console under /console and the shared stylesheet under /static."""
        console = web.Application(
            middlewares=[
                security_headers,
                no_tracebacks,
                # Before the session and CSRF: a refused request reads and changes nothing.
                request_guard(self.boundary),
                aiohttp_session.session_middleware(
                    ConsoleCookies(
                        session_key(), settings=self.settings.console, proxies=self.proxies
                    )
                ),
                csrf_middleware,
                self._require_sign_in,
            ]
        )
        add = console.router.add_get
        add("/", self.list_page, name="consultations")
        add("/login", self.login_page, name="login")
        console.router.add_post("/login", self.login, name="login_post")
        console.router.add_post("/logout", self.logout, name="logout")
        add(f"/consultations/{{id:{ID}}}", self.consultation_page, name="consultation")
        add(
            f"/consultations/{{id:{ID}}}/{{what:opinions|ballots|referrals}}.{{fmt:xlsx|csv}}",
            self.table,
        )
        add(f"/consultations/{{id:{ID}}}/referrals/{{number:{ID}}}/letter.docx", self.letter)
        add(f"/consultations/{{id:{ID}}}/letters/{{letter:{ID}}}.docx", self.issued_letter)
        add(
            f"/consultations/{{id:{ID}}}/minutes/{{number:{ID}}}.{{fmt:docx|md}}", self.minutes_file
        )
        add("/stats", self.stats_page, name="stats")
        console.router.add_post("/exports/statistics", self.start_statistics_export)
        add("/jobs/{job}", self.job_status)
        add("/jobs/{job}/view", self.job_page, name="job_page")
        add("/jobs/{job}/download", self.job_download)
        add("/chat", self.chat_link, name="chat_link")
        add("/users", self.users_page, name="users")
        console.router.add_post(f"/users/{{user:{ID}}}/remove", self.remove_user)
        app.add_subapp("/console/", console)
        app.router.add_get("/console", self._to_console)
        app.router.add_static("/static/", STATIC)

    def close(self) -> None:
        """Stop the export and page threads and release the engine."""
        self.jobs.close()
        self._readers.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run a read on the console's threads with a session of its read-only engine."""

        def work() -> T:
            with Session(self.engine) as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._readers, work)

    async def _to_console(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console/")

    # -- sign-in --------------------------------------------------------------------------

    @web.middleware
    async def _require_sign_in(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        """Let signed-in users through; send browsers to sign in, refuse the rest with 401."""
        route = request.match_info.route.name
        if route in PUBLIC or request.match_info.http_exception is not None:
            response: web.StreamResponse = await handler(request)
            return response
        identity = await self._identity(request)
        if identity is None:
            if route in PAGES and request.method == "GET":
                raise web.HTTPSeeOther("/console/login?" + urlencode({"next": request.path_qs}))
            raise web.HTTPUnauthorized(text=NOT_SIGNED_IN)
        request[IDENTITY] = identity
        return await handler(request)  # type: ignore[no-any-return]

    async def _identity(self, request: web.Request) -> Identity | None:
        """Who the session's key belongs to, while the session stands: not signed out, not
        expired, and the user still there with the same role and token."""
        session = await aiohttp_session.get_session(request)
        key = session.get(SESSION_KEY)
        if not isinstance(key, str) or not key:
            return None
        now = self.clock.now()

        def check(s: Session) -> Identity | None:
            stored = console_session_by_key(s, key=key, now=now)
            if stored is None:
                return None
            identity = Identity.of(stored)
            if identity.user_id is None:
                return identity if self.users.still_valid(identity) else None
            user = console_user_by_id(s, user_id=identity.user_id)
            if user is None or user.role is not identity.role:
                return None
            return identity if stamp_of(user.token_hash) == identity.stamp else None

        identity = await self.read(check)
        if identity is None:
            session.invalidate()
        return identity

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """The sign-in form."""
        return await self.render(request, "login.html", error="", next=_next(request), status=200)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check the token; a wrong one answers 401, too many from one address (or with one
        token) 429."""
        address = self.proxies.client_address(request)
        now = self.clock.now()
        form = await request.post()
        target = _safe_next(str(form.get("next", "")))
        token = str(form.get("token", "")).strip()
        keys = sign_in_keys(address, token)
        wait = self.guard.retry_after(keys, now)
        if wait > 0:
            seconds = max(1, round(wait))
            error = TOO_MANY.format(seconds=seconds)
            response = await self.render(
                request, "login.html", error=error, next=target, status=429
            )
            response.headers["Retry-After"] = str(seconds)
            return response
        identity = await self._check_token(token) if 0 < len(token) <= 200 else None
        if identity is None:
            self.guard.failed(keys, now)
            log.info("控制台登录失败，来自 %s", address)
            return await self.render(
                request, "login.html", error=WRONG_TOKEN, next=target, status=401
            )
        key = secrets.token_urlsafe(32)
        hours = timedelta(hours=self.settings.console.session_hours)
        await self.writer.run(
            lambda s: open_console_session(
                s,
                key=key,
                name=identity.name,
                role=identity.role,
                user_id=identity.user_id,
                stamp=identity.stamp,
                now=now,
                expires_at=now + hours,
            )
        )
        # A fresh cookie at sign-in, so a session fixed before it is worth nothing.
        session = await aiohttp_session.new_session(request)
        session[SESSION_KEY] = key
        log.info("控制台用户 %s 已登录", identity.name)
        raise web.HTTPSeeOther(target)

    async def _check_token(self, token: str) -> Identity | None:
        configured = self.users.identify(token)
        if configured is not None:
            return configured

        def lookup(session: Session) -> Identity | None:
            user = console_user_by_token(session, token=token)
            if user is None or user.id is None:
                return None
            return Identity(user.name, user.role, user.id, stamp_of(user.token_hash))

        return await self.read(lookup)

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """End the session on the server, so no copy of the cookie works any more."""
        session = await aiohttp_session.get_session(request)
        key = session.get(SESSION_KEY)
        if isinstance(key, str) and key:
            await self.writer.run(lambda s: close_console_session(s, key=key))
        session.invalidate()
        log.info("控制台用户 %s 已退出", request[IDENTITY].name)
        raise web.HTTPSeeOther("/console/login")

    # -- pages ----------------------------------------------------------------------------

    async def render(
        self, request: web.Request, template: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        """A page from its template, with the user, the CSRF token and the navigation."""
        page = self.templates.get_template(template).render(
            user=request.get(IDENTITY),
            csrf_field=CSRF_FIELD,
            csrf=await csrf_token(request),
            path=request.path,
            local_chat=self.local_chat,
            **context,
        )
        return web.Response(text=page, content_type="text/html", status=status)

    async def list_page(self, request: web.Request) -> web.StreamResponse:
        """The consultations with their stage and counts, newest first, a page at a time,
        of one group or all (a province's console holds thousands)."""
        group_id = _query_number(request, "group", what="群")
        page = _query_number(request, "page", what="页") or 1

        def gather(session: Session) -> dict[str, Any]:
            total = queries.count_consultations(session, group_id=group_id)
            pages = max(1, -(-total // LIST_PAGE_SIZE))
            shown = min(page, pages)
            return {
                "consultations": queries.list_consultation_overviews(
                    session,
                    group_id=group_id,
                    offset=(shown - 1) * LIST_PAGE_SIZE,
                    limit=LIST_PAGE_SIZE,
                ),
                "groups": queries.group_ids(session),
                "pager": {"page": shown, "pages": pages, "total": total, "group": group_id},
            }

        return await self.render(request, "consultations.html", **await self.read(gather))

    async def consultation_page(self, request: web.Request) -> web.StreamResponse:
        """One consultation: timeline, opinions (filtered), polls, minutes and referrals."""
        consultation_id = int(request.match_info["id"])
        kind = _opinion_kind(request.query.get("kind", ""))
        member_id = _query_number(request, "member", what="委员")
        theme = _query_number(request, "theme", what="主题")
        theme_index = "" if theme is None else str(theme)
        today = self._today()

        def gather(session: Session) -> dict[str, Any] | None:
            overview = queries.consultation_overview(session, consultation_id=consultation_id)
            if overview is None:
                return None
            versions = minutes_versions(session, consultation_id=consultation_id)
            themes = themes_of(versions[0] if versions else None)
            chosen = theme if theme is not None else len(themes)
            picked = themes[chosen] if chosen < len(themes) else None
            return {
                "c": overview,
                "timeline": queries.consultation_timeline(session, consultation_id=consultation_id),
                "opinions": queries.list_opinion_rows(
                    session,
                    consultation_id=consultation_id,
                    kind=kind,
                    member_id=member_id,
                    numbers=set(picked.numbers) if picked else None,
                ),
                "authors": queries.opinion_authors(session, consultation_id=consultation_id),
                "polls": queries.list_poll_results(session, consultation_id=consultation_id),
                "referrals": queries.list_referral_rows(
                    session, consultation_id=consultation_id, today=today
                ),
                "versions": versions,
                "themes": themes,
                "follow_up": follow_up(session, consultation_id=consultation_id),
            }

        data = await self.read(gather)
        if data is None:
            raise web.HTTPNotFound(text=f"没有第 {consultation_id} 场协商。")
        charts = [
            bar_chart(
                list(zip(poll.options, poll.tally.votes, strict=True)),
                unit=" 票",
                title=f"投票 #{poll.number} 结果",
            )
            for poll in data["polls"]
        ]
        c = data["c"]
        chat_url = ""
        if c.platform == "local" and self.local_chat:
            chat_url = "/chat?" + urlencode({"conversation": c.conversation_id})
        return await self.render(
            request,
            "consultation.html",
            charts=charts,
            chat_url=chat_url,
            filters={"kind": kind.value if kind else "", "member": member_id, "theme": theme_index},
            kinds=list(OpinionKind),
            **data,
        )

    async def stats_page(self, request: web.Request) -> web.StreamResponse:
        """Figures per month and per group, with charts, and the year's export."""
        this_year = self.clock.now().astimezone(self.zone).year
        text = request.query.get("year", str(this_year))
        year = _year(text)
        if year is None:
            raise web.HTTPBadRequest(text=f"年份应写成 2026 这样的四位数，而不是 {text[:20]}")
        now = self.clock.now()

        tree = self.settings.units.tree_spec()
        principal = self.settings.units.principal_rule()

        def gather(session: Session) -> dict[str, Any]:
            return {
                "overall": compute_statistics(
                    session, now=now, zone=self.zone, year=year, principal=principal
                ),
                "months": queries.monthly_figures(session, zone=self.zone, year=year),
                "groups": queries.group_figures(session, zone=self.zone, year=year),
                "units": year_table(
                    session, tree=tree, now=now, zone=self.zone, year=year, principal=principal
                )
                if tree.units
                else None,
            }

        data = await self.read(gather)
        from reports.statistics import statistics_rows

        units: YearTable | None = data["units"]
        unit_rows = []
        level_charts = []
        if units is not None:
            unit_rows = [
                (
                    row.depth,
                    row.met,
                    [(_shown(column, row), not column.text) for column in YEAR_COLUMNS],
                )
                for row in units.rows
            ]
            # One chart per level: units of a level are alike, a province beside its
            # townships is not a comparison anyone makes.
            level_charts = [
                (
                    level.label,
                    bar_chart(
                        [
                            (f"{r.unit.name}（目标{r.unit.quota}）", r.held)
                            for r in units.at_level(level)
                        ],
                        unit=" 场",
                        title=f"{year} 年{level.label}级单位本级协商场数",
                    ),
                )
                for level in units.levels
            ]
        return await self.render(
            request,
            "stats.html",
            year=year,
            years=list(range(this_year, this_year - 5, -1)),
            rows=statistics_rows(data["overall"]),
            month_chart=column_chart(
                [(m.label, m.opinions, m.suggestions) for m in data["months"]],
                legend=("意见", "建议"),
                title=f"{year} 年每月意见建议",
            ),
            group_chart=bar_chart(
                [(g.label, g.opinions + g.suggestions) for g in data["groups"]],
                unit=" 条",
                title=f"{year} 年各群意见建议",
            ),
            unit_columns=[column.header for column in YEAR_COLUMNS],
            unit_rows=unit_rows,
            level_charts=level_charts,
            **data,
        )

    # -- downloads ------------------------------------------------------------------------

    async def table(self, request: web.Request) -> web.StreamResponse:
        """Opinions, ballots (anonymous polls without names) or referrals as XLSX or CSV."""
        consultation_id = int(request.match_info["id"])
        what, fmt = request.match_info["what"], request.match_info["fmt"]
        today = self._today()

        def build(session: Session) -> Table | None:
            if queries.consultation_overview(session, consultation_id=consultation_id) is None:
                return None
            if what == "opinions":
                rows = queries.list_opinion_rows(session, consultation_id=consultation_id)
                return opinions_table(rows, self.zone)
            if what == "ballots":
                ballots = queries.list_ballot_rows(session, consultation_id=consultation_id)
                return ballots_table(ballots, self.zone)
            referrals = queries.list_referral_rows(
                session, consultation_id=consultation_id, today=today
            )
            return referrals_table(referrals, self.zone)

        table = await self.read(build)
        if table is None:
            raise web.HTTPNotFound(text=f"没有第 {consultation_id} 场协商。")
        name = f"协商{consultation_id}-{table.name}.{fmt}"
        if fmt == "csv":
            return _download(table_csv(table), name, CSV)
        return _download(tables_xlsx([table]), name, XLSX)

    async def letter(self, request: web.Request) -> web.StreamResponse:
        """A referral's 报送函 as DOCX, exactly as it was issued."""
        consultation_id = int(request.match_info["id"])
        number = int(request.match_info["number"])
        letter = await self.read(
            lambda s: queries.referral_letter_of(s, consultation_id=consultation_id, number=number)
        )
        if letter is None or not letter.docx:
            raise web.HTTPNotFound(text=f"这场协商没有报送 #{number}。")
        return _download(letter.docx, f"报送函-协商{consultation_id}-{number}.docx", DOCX)

    async def issued_letter(self, request: web.Request) -> web.StreamResponse:
        """Any letter of the consultation (报送函 or 重办函) as DOCX, as it was issued."""
        consultation_id = int(request.match_info["id"])
        letter_id = int(request.match_info["letter"])
        letter = await self.read(
            lambda s: queries.consultation_letter(
                s, consultation_id=consultation_id, letter_id=letter_id
            )
        )
        if letter is None or not letter.docx:
            raise web.HTTPNotFound(text=f"这场协商没有第 {letter_id} 号函。")
        return _download(letter.docx, f"{letter.kind.label}-{letter_id}.docx", DOCX)

    async def minutes_file(self, request: web.Request) -> web.StreamResponse:
        """One version of the minutes as DOCX or Markdown."""
        consultation_id = int(request.match_info["id"])
        number = int(request.match_info["number"])
        entry = await self.read(
            lambda s: minutes_version(s, consultation_id=consultation_id, number=number)
        )
        if entry is None:
            raise web.HTTPNotFound(text=f"这场协商没有第 {number} 版纪要。")
        name = f"会议纪要-协商{consultation_id}-第{number}版"
        if request.match_info["fmt"] == "md":
            return _download(entry.markdown.encode(), name + ".md", MARKDOWN)
        return _download(entry.docx, name + ".docx", DOCX)

    # -- long exports ---------------------------------------------------------------------

    async def start_statistics_export(self, request: web.Request) -> web.StreamResponse:
        """Start the year's statistics workbook in the background; show its progress page."""
        identity = request[IDENTITY]
        form = await request.post()
        year = _year(str(form.get("year", "")))
        if year is None:
            raise web.HTTPBadRequest(text="年份应写成 2026 这样的四位数。")
        job = self.jobs.start(
            owner=identity.name,
            title=f"{year} 年协商工作统计",
            filename=f"协商工作统计-{year}.xlsx",
            content_type=XLSX,
            work=self.statistics_work(year),
        )
        raise web.HTTPSeeOther(f"/console/jobs/{job.id}/view")

    def statistics_work(self, year: int) -> Callable[[Progress], bytes]:
        """The year's workbook: all groups, each month, each group and, with units, a sheet
        per level; a short read per step, so no transaction stays open for the whole export."""
        now = self.clock.now()
        tree = self.settings.units.tree_spec()
        principal = self.settings.units.principal_rule()

        def work(progress: Progress) -> bytes:
            with Session(self.engine) as session:
                groups = queries.group_ids(session)
            total = len(groups) + 3
            progress(0, total, "全部群")
            with Session(self.engine) as session:
                overall = compute_statistics(
                    session, now=now, zone=self.zone, year=year, principal=principal
                )
            progress(1, total, "按月")
            with Session(self.engine) as session:
                months = queries.monthly_figures(session, zone=self.zone, year=year)
            per_group = []
            for index, (group_id, title) in enumerate(groups, start=2):
                progress(index, total, title)
                with Session(self.engine) as session:
                    figures = compute_statistics(
                        session,
                        now=now,
                        zone=self.zone,
                        year=year,
                        group_id=group_id,
                        scope=title,
                        principal=principal,
                    )
                per_group.append(figures)
            progress(total - 1, total, "各单位")
            units = None
            if tree.units:
                with Session(self.engine) as session:
                    units = year_table(
                        session, tree=tree, now=now, zone=self.zone, year=year, principal=principal
                    )
            progress(total, total, "生成表格")
            return statistics_workbook(overall, months, per_group, units)

        return work

    async def job_status(self, request: web.Request) -> web.StreamResponse:
        """A job's progress as JSON (polled by the progress page)."""
        job = self.jobs.get(request.match_info["job"], owner=request[IDENTITY].name)
        if job is None:
            raise web.HTTPNotFound(text="没有这个导出任务。")
        return web.json_response(job.to_json(f"/console/jobs/{job.id}/download"))

    async def job_page(self, request: web.Request) -> web.StreamResponse:
        """The progress page of a job."""
        job = self.jobs.get(request.match_info["job"], owner=request[IDENTITY].name)
        if job is None:
            raise web.HTTPNotFound(text="没有这个导出任务。")
        return await self.render(request, "job.html", job=job)

    async def job_download(self, request: web.Request) -> web.StreamResponse:
        """A finished job's file."""
        job = self.jobs.get(request.match_info["job"], owner=request[IDENTITY].name)
        if job is None or job.result is None:
            raise web.HTTPNotFound(text="这个导出还没有完成。")
        return _download(job.result, job.filename, job.content_type)

    # -- users (secretaries only) ------------------------------------------------------------

    async def users_page(self, request: web.Request) -> web.StreamResponse:
        """Who may sign in: users from the database (removable here) and from config."""
        require_secretary(request[IDENTITY])
        stored = await self.read(list_console_users)
        return await self.render(
            request, "users.html", stored=stored, configured=self.users.names()
        )

    async def remove_user(self, request: web.Request) -> web.StreamResponse:
        """Take a user's access away; their sign-ins stop at their next request."""
        require_secretary(request[IDENTITY])
        user_id = int(request.match_info["user"])
        removed = await self.writer.run(lambda s: remove_console_user_by_id(s, user_id=user_id))
        if not removed:
            raise web.HTTPNotFound(text="没有这个用户。")
        raise web.HTTPSeeOther("/console/users")

    # -- the chat ---------------------------------------------------------------------------

    async def chat_link(self, request: web.Request) -> web.StreamResponse:
        """From the local chat to the console page of its group's consultation."""
        conversation = request.query.get("conversation", "")[:64]
        found = await self.read(
            lambda s: queries.latest_consultation_of(
                s, platform="local", conversation_id=conversation
            )
        )
        raise web.HTTPSeeOther(f"/console/consultations/{found}" if found else "/console/")

    # -- helpers ----------------------------------------------------------------------------

    def _local_time(self, moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def _today(self) -> date:
        """Today in the bot's zone: deadlines are local dates."""
        return self.clock.now().astimezone(self.zone).date()

    def _local_day(self, moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(self.zone).strftime("%Y-%m-%d")


def _shown(column: YearColumn, row: UnitFigures) -> str:
    """A cell of the year's table as the page shows it: shares as percents, scores with one
    decimal, nothing to divide as —."""
    value = column.value(row)
    if value is None:
        return "—"
    if isinstance(value, Score | Share):
        return value.text
    return str(value)


def require_secretary(identity: Identity) -> None:
    """Refuse a leader's attempt to change something (403)."""
    if identity.role is not ConsoleRole.SECRETARY:
        raise web.HTTPForbidden(text=READ_ONLY)


def _download(data: bytes, filename: str, content_type: str) -> web.Response:
    # RFC 6266: an ASCII fallback and the UTF-8 name, so Chinese file names survive.
    disposition = f"attachment; filename=\"download\"; filename*=UTF-8''{quote(filename)}"
    return web.Response(
        body=data, headers={"Content-Type": content_type, "Content-Disposition": disposition}
    )


def _safe_next(target: str) -> str:
    """Only somewhere inside the console (never another site) after sign-in."""
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


def _digits(text: str, longest: int) -> bool:
    # str.isdigit() alone lets "²" and other digits int() refuses through, and int() of
    # thousands of digits raises: only a few ASCII digits are a number here.
    return text.isascii() and text.isdigit() and len(text) <= longest


def _year(text: str) -> int | None:
    """A year from 2000 to 2100 written as four digits, or None."""
    if not _digits(text, 4):
        return None
    year = int(text)
    return year if 2000 <= year <= 2100 else None


def _query_number(request: web.Request, name: str, *, what: str) -> int | None:
    """A number in the query (None when absent or empty); anything else answers 400."""
    text = request.query.get(name, "")
    if not text:
        return None
    if not _digits(text, 9):
        raise web.HTTPBadRequest(text=f"{what}编号应为数字，而不是「{text[:20]}」。")
    return int(text)


def _opinion_kind(text: str) -> OpinionKind | None:
    """The kind a filter asks for (None: every kind); an unknown one answers 400."""
    if not text:
        return None
    for kind in OpinionKind:
        if text in (kind.value, kind.label):
            return kind
    names = "、".join(kind.value for kind in OpinionKind)
    raise web.HTTPBadRequest(text=f"类别应为 {names} 之一，而不是「{text[:20]}」。")


def _next(request: web.Request) -> str:
    return _safe_next(request.query.get("next", ""))

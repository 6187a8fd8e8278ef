"""The `xieshang` command: run the bot, replay a transcript, upgrade the database, and
export the statistics, referral letters and minutes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pythonjsonlogger.json import JsonFormatter

from bot.core.settings import LogSettings, Settings
from bot.runtime.config import ConfigError, load_settings
from bot.runtime.secrets import RedactingFormatter

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workers.minutes_service import RenderedMinutes

log = logging.getLogger("xieshang")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    started = time.perf_counter()
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as error:
        print(f"xieshang: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log)
    if args.command == "run":
        return asyncio.run(_run(settings, started))
    if args.command == "replay":
        return _replay(settings, args.file, args.conversation)
    if args.command == "db" and args.db_command == "upgrade":
        return _upgrade(settings)
    if args.command == "stats":
        return _stats(settings, args.year, args.format, args.output, args.unit, args.level)
    if args.command == "letter":
        return _letter(settings, args.letter, args.format, args.output)
    if args.command == "user" and args.user_command:
        name, role = getattr(args, "name", ""), getattr(args, "role", "secretary")
        return _user(settings, args.user_command, name, role)
    if args.command == "minutes":
        return _minutes(settings, args.consultation, args.format, args.output, new=args.new)
    parser.print_help()
    return 2


def configure_logging(settings: LogSettings) -> None:
    """Log to stderr as text or JSON (with the record's ids), secrets blanked either way."""
    if settings.format == "json":
        inner: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
            json_ensure_ascii=False,
        )
    else:
        inner = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(inner))
    # Not forced: a host that configured logging already (a test runner) keeps its own.
    logging.basicConfig(level=settings.level, handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="配置文件（默认 ./config.yaml）"
    )
    # SUPPRESS everywhere: `--config` may come before or after the sub-command.
    parser = argparse.ArgumentParser(prog="xieshang", description="协商助手", parents=[common])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", parents=[common], help="启动协商助手")
    replay = commands.add_parser("replay", parents=[common], help="回放一段群聊记录（JSONL）")
    replay.add_argument("file", type=Path)
    replay.add_argument("--conversation", default="replay", help="记录里没写群时用的群名")
    db = commands.add_parser("db", parents=[common], help="数据库")
    db_commands = db.add_subparsers(dest="db_command")
    db_commands.add_parser("upgrade", parents=[common], help="把数据库升级到最新结构")
    stats = commands.add_parser("stats", parents=[common], help="协商工作统计")
    stats.add_argument("--year", help="年份，如 2026（默认今年；all 为历年）")
    stats.add_argument("--format", choices=["md", "json", "xlsx"], default="md")
    stats.add_argument("--output", type=Path, help="写入文件（xlsx 必须写文件）")
    stats.add_argument(
        "--unit", help="按单位出年度统计表：单位名（config.yaml 的 units.tree），all 为全部单位"
    )
    stats.add_argument("--level", help="年度统计表只列这一级的单位：省、市、县 或 乡镇")
    letter = commands.add_parser("letter", parents=[common], help="导出报送函或重办函（原样）")
    letter.add_argument("letter", type=int, help="函的文号〔年〕N号 中的 N")
    letter.add_argument("--format", choices=["md", "docx"], default="docx")
    letter.add_argument(
        "--output", type=Path, help="写入文件（docx 默认写 报送函-N.docx 或 重办函-N.docx）"
    )
    user = commands.add_parser("user", parents=[common], help="秘书工作台的用户")
    user_commands = user.add_subparsers(dest="user_command")
    add = user_commands.add_parser(
        "add", parents=[common], help="添加用户并生成登录令牌（已有的用户换发新令牌）"
    )
    add.add_argument("name", help="姓名，如 王秘书")
    add.add_argument(
        "--role",
        choices=["secretary", "leader"],
        default="secretary",
        help="secretary 或 leader（只读）",
    )
    user_commands.add_parser("list", parents=[common], help="列出数据库里的用户")
    remove = user_commands.add_parser("remove", parents=[common], help="删除用户（其登录随即失效）")
    remove.add_argument("name")
    minutes = commands.add_parser("minutes", parents=[common], help="导出会议纪要")
    minutes.add_argument("consultation", type=int, help="协商编号（数字）")
    minutes.add_argument("--format", choices=["md", "docx", "json"], default="md")
    minutes.add_argument("--output", type=Path, help="写入文件（docx 默认写 纪要-编号-第N版.docx）")
    minutes.add_argument("--new", action="store_true", help="重新生成一版，而不是取最新一版")
    return parser


async def _run(settings: Settings, started: float) -> int:
    from bot.runtime.app import App, settle_heap

    app = App(settings)
    await app.start()
    settle_heap()
    platforms = "、".join(app.adapters) or "无"
    where = f"http://{settings.web.host}:{app.web_port}"
    log.info(
        "协商助手已就绪（%.1f 秒）：%s，平台 %s，数据库 %s",
        time.perf_counter() - started,
        where,
        platforms,
        app.engine.url.render_as_string(hide_password=True),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("正在停止…")
    await app.stop()
    return 0


def _replay(settings: Settings, path: Path, conversation: str) -> int:
    from bot.runtime.replay import first_time

    if not path.is_file():
        print(f"xieshang: 找不到文件 {path}", file=sys.stderr)
        return 2
    start = first_time(path)
    if start is None:
        print(f"xieshang: {path} 里没有可回放的消息", file=sys.stderr)
        return 2
    return asyncio.run(_replay_from(settings, path, conversation, start))


async def _replay_from(settings: Settings, path: Path, conversation: str, start: datetime) -> int:
    from bot.core.clock import ManualClock
    from bot.runtime.app import App
    from bot.runtime.replay import replay

    clock = ManualClock(start)
    app = App(settings, clock=clock, adapters=[], fire_jobs=False, serve_web=False)
    await app.start()
    try:
        stats = await replay(app, clock, path, sys.stdout, conversation=conversation)
    finally:
        await app.stop()
    minutes = f"，生成纪要 {stats.minutes} 版" if stats.minutes else ""
    if stats.minutes_failed:
        minutes += f"，纪要生成失败 {stats.minutes_failed} 次（原因见日志）"
    print(
        f"回放完成：{stats.messages} 条消息（重复 {stats.duplicates}，跳过 {stats.skipped}），"
        f"协商助手回复 {stats.replies} 条{minutes}。",
        file=sys.stderr,
    )
    return 0


def _upgrade(settings: Settings) -> int:
    from storage.engine import make_engine, upgrade_database

    engine = make_engine(settings.database.url)
    upgrade_database(engine, timezone=settings.timezone)
    engine.dispose()
    print("数据库已是最新结构。")
    return 0


def _write(content: str | bytes, output: Path | None) -> None:
    if output is None:
        assert isinstance(content, str)
        sys.stdout.write(content + "\n")
    elif isinstance(content, bytes):
        output.write_bytes(content)
    else:
        output.write_text(content + "\n", encoding="utf-8")


def _stats(
    settings: Settings,
    year_text: str | None,
    fmt: str,
    output: Path | None,
    unit: str | None = None,
    level_text: str | None = None,
) -> int:
    """The statistics of all groups or, with --unit or --level, the year's table of the
    units, as Markdown, JSON or XLSX."""
    import json

    from sqlmodel import Session

    from bot.core.clock import SystemClock
    from reports.statistics import (
        render_statistics_markdown,
        render_statistics_xlsx,
        render_year_table_markdown,
        statistics_json,
        year_table_json,
    )
    from reports.tables import year_table_xlsx
    from storage.engine import make_engine, upgrade_database
    from storage.enums import UnitLevel
    from storage.stats import compute_statistics
    from storage.units import year_table

    now = SystemClock().now()
    if year_text is None:
        year: int | None = now.astimezone(settings.zone).year
    elif year_text.lower() in ("all", "全部"):
        year = None
    elif year_text.isdigit() and 2000 <= int(year_text) <= 2100:
        year = int(year_text)
    else:
        print(f"xieshang: 年份应写成 2026 或 all，而不是 {year_text}", file=sys.stderr)
        return 2
    if fmt == "xlsx" and output is None:
        print("xieshang: xlsx 格式请用 --output 指定文件", file=sys.stderr)
        return 2
    by_units = unit is not None or level_text is not None
    tree = settings.units.tree_spec()
    level = UnitLevel.from_text(level_text) if level_text is not None else None
    if level_text is not None and level is None:
        print(f"xieshang: 级别应为 省、市、县 或 乡镇，而不是 {level_text}", file=sys.stderr)
        return 2
    scope = None if unit is None or unit.lower() in ("all", "全部") else unit
    if by_units and not tree.units:
        print("xieshang: config.yaml 里还没有单位（units.tree）", file=sys.stderr)
        return 2
    if scope is not None and tree.find(scope) is None:
        print(f"xieshang: config.yaml 的 units.tree 里没有单位 {scope}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database.url)
    try:
        upgrade_database(engine, timezone=settings.timezone)
        with Session(engine) as session:
            principal = settings.units.principal_rule()
            if by_units:
                table = year_table(
                    session,
                    tree=tree,
                    now=now,
                    zone=settings.zone,
                    year=year,
                    principal=principal,
                    unit=scope,
                    level=level,
                )
            else:
                stats = compute_statistics(
                    session, now=now, zone=settings.zone, year=year, principal=principal
                )
    finally:
        engine.dispose()
    if by_units:
        if fmt == "xlsx":
            _write(year_table_xlsx(table), output)
        elif fmt == "json":
            _write(json.dumps(year_table_json(table), ensure_ascii=False, indent=2), output)
        else:
            _write(render_year_table_markdown(table, depth=None), output)
        return 0
    if fmt == "xlsx":
        _write(render_statistics_xlsx(stats), output)
    elif fmt == "json":
        _write(json.dumps(statistics_json(stats), ensure_ascii=False, indent=2), output)
    else:
        _write(render_statistics_markdown(stats), output)
    return 0


def _user(settings: Settings, command: str, name: str, role: str) -> int:
    import secrets

    from sqlmodel import Session

    from bot.core.clock import SystemClock
    from storage.console_users import (
        ConsoleRole,
        list_console_users,
        remove_console_user,
        save_console_user,
    )
    from storage.engine import make_engine, upgrade_database

    name = name.strip()
    if command in ("add", "remove") and not 0 < len(name) <= 32:
        print("xieshang: 姓名应为 1 到 32 个字", file=sys.stderr)
        return 2
    engine = make_engine(settings.database.url)
    try:
        upgrade_database(engine, timezone=settings.timezone)
        with Session(engine) as session, session.begin():
            if command == "list":
                for user in list_console_users(session):
                    print(f"{user.name}\t{user.role.label}\t{user.created_at:%Y-%m-%d}")
                return 0
            if command == "remove":
                if not remove_console_user(session, name=name):
                    print(f"xieshang: 没有用户 {name}", file=sys.stderr)
                    return 2
                print(f"已删除用户 {name}。")
                return 0
            token = secrets.token_urlsafe(32)
            created = save_console_user(
                session, name=name, role=ConsoleRole(role), token=token, now=SystemClock().now()
            )
    finally:
        engine.dispose()
    action = "已添加" if created else "已换发新令牌给"
    label = ConsoleRole(role).label
    print(f"{action}用户 {name}（{label}）。登录令牌（只显示这一次，请妥善保存）：")
    print(token)
    return 0


def _letter(settings: Settings, letter_id: int, fmt: str, output: Path | None) -> int:
    """Letter N (报送函 or 重办函) exactly as it was issued and stored."""
    from sqlmodel import Session

    from reports.letter import Issue, render_letter_docx, render_letter_markdown
    from storage.engine import make_engine, upgrade_database
    from storage.referrals import get_letter, referral_dossier

    engine = make_engine(settings.database.url)
    try:
        upgrade_database(engine, timezone=settings.timezone)
        with Session(engine) as session:
            letter = get_letter(session, letter_id=letter_id)
            if letter is None:
                print(f"xieshang: 没有第 {letter_id} 号报送函", file=sys.stderr)
                return 2
            markdown, docx = letter.markdown, letter.docx
            if not docx:
                # Issued before letters were stored, and the bot has not started since
                # the upgrade (it stores them then): the same rendering, not stored here.
                issue = Issue(letter.number, letter.issued_on, letter.due_on)
                dossier = referral_dossier(session, referral_id=letter.referral_id)
                markdown = render_letter_markdown(dossier, issue, settings.zone)
                docx = render_letter_docx(dossier, issue, settings.zone)
            kind = letter.kind.label
    finally:
        engine.dispose()
    if fmt == "md":
        _write(markdown, output)
        return 0
    target = output or Path(f"{kind}-{letter_id}.docx")
    _write(docx, target)
    print(f"{kind}已写入 {target}", file=sys.stderr)
    return 0


def _minutes(
    settings: Settings, consultation_id: int, fmt: str, output: Path | None, *, new: bool
) -> int:
    """The latest stored version of a consultation's minutes, or a new one (with --new, or
    when none is stored yet), as Markdown, DOCX or JSON. A new one is built as `/纪要`
    builds it: the statements' missing sentence vectors first."""
    from sqlmodel import Session

    from bot.core.clock import SystemClock
    from storage.engine import make_engine, upgrade_database
    from storage.minutes import add_minutes_version, minutes_version
    from storage.models import Consultation

    engine = make_engine(settings.database.url)
    try:
        upgrade_database(engine, timezone=settings.timezone)
        with Session(engine, expire_on_commit=False) as session:
            if session.get(Consultation, consultation_id) is None:
                print(f"xieshang: 没有第 {consultation_id} 号协商", file=sys.stderr)
                return 2
            version = None if new else minutes_version(session, consultation_id)
        if version is None:
            rendered = asyncio.run(_new_minutes(engine, consultation_id, settings))
            with Session(engine, expire_on_commit=False) as session, session.begin():
                version = add_minutes_version(
                    session,
                    consultation_id=consultation_id,
                    markdown=rendered.markdown,
                    body=rendered.body,
                    docx=rendered.docx,
                    method=rendered.method,
                    created_by=None,
                    now=SystemClock().now(),
                )
            print(f"已生成纪要第 {version.number} 版，{rendered.how()}", file=sys.stderr)
    finally:
        engine.dispose()
    if fmt == "md":
        _write(version.markdown.rstrip(), output)
    elif fmt == "json":
        _write(version.body, output)
    else:
        target = output or Path(f"纪要-{consultation_id}-第{version.number}版.docx")
        _write(version.docx, target)
        print(f"纪要第 {version.number} 版已写入 {target}", file=sys.stderr)
    return 0


async def _new_minutes(engine: Engine, consultation_id: int, settings: Settings) -> RenderedMinutes:
    """A new version's content, its statements' missing vectors computed first (the model
    loads in a second or two; a consultation of 1,000 lines embeds in under a minute)."""
    from bot.core.clock import SystemClock
    from storage.database import Database
    from workers.minutes_service import make_minutes
    from workers.vectors import SentenceVectors

    database = Database(engine)
    vectors = SentenceVectors(database=database, settings=settings, clock=SystemClock())
    try:
        return await make_minutes(vectors, consultation_id, settings)
    finally:
        vectors.close()
        database.close()


if __name__ == "__main__":
    raise SystemExit(main())

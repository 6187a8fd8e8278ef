"""The `xieshang` command: run the bot, replay a transcript, upgrade the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("xieshang")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    started = time.perf_counter()
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as error:
        print(f"xieshang: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        return asyncio.run(_run(settings, started))
    if args.command == "replay":
        return _replay(settings, args.file, args.conversation)
    if args.command == "db" and args.db_command == "upgrade":
        return _upgrade(settings)
    parser.print_help()
    return 2


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
    return parser


async def _run(settings: Settings, started: float) -> int:
    from bot.app import App

    app = App(settings)
    await app.start()
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
    from bot.replay import first_time

    if not path.is_file():
        print(f"xieshang: 找不到文件 {path}", file=sys.stderr)
        return 2
    start = first_time(path)
    if start is None:
        print(f"xieshang: {path} 里没有可回放的消息", file=sys.stderr)
        return 2
    return asyncio.run(_replay_from(settings, path, conversation, start))


async def _replay_from(settings: Settings, path: Path, conversation: str, start: datetime) -> int:
    from bot.app import App
    from bot.clock import ManualClock
    from bot.replay import replay

    clock = ManualClock(start)
    app = App(settings, clock=clock, adapters=[], fire_jobs=False, serve_web=False)
    await app.start()
    try:
        stats = await replay(app, clock, path, sys.stdout, conversation=conversation)
    finally:
        await app.stop()
    print(
        f"回放完成：{stats.messages} 条消息（重复 {stats.duplicates}，跳过 {stats.skipped}），"
        f"协商助手回复 {stats.replies} 条。",
        file=sys.stderr,
    )
    return 0


def _upgrade(settings: Settings) -> int:
    from storage.engine import make_engine, upgrade_database

    engine = make_engine(settings.database.url)
    upgrade_database(engine)
    engine.dispose()
    print("数据库已是最新结构。")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

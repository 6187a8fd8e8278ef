"""Shared data and checks of the minutes tests (a plain module: tests/ is not a package)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from minutes import Minutes, Quote, Statement

START = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)

NIGHT_MARKET = [
    # (author id, text, kind)
    ("m01", "夜市延长到十一点以后，烧烤油烟直接飘进楼上住户家里，窗户都不敢开", "opinion"),
    ("m02", "油烟太大了，建议夜市烧烤摊统一安装油烟净化设备", "suggestion"),
    ("m03", "烧烤摊的油烟净化必须检查到位，不然住户天天闻油烟", "opinion"),
    ("m04", "收到", "remark"),
    ("m05", "夜市散场以后垃圾满地，塑料袋和竹签没人清扫", "opinion"),
    ("m06", "建议夜市结束后半小时内完成垃圾清运，摊主负责门前清扫", "suggestion"),
    ("m07", "垃圾桶太少，散场后垃圾满地，清扫要跟上", "opinion"),
    ("m08", "+1", "remark"),
    ("m09", "晚上来逛夜市的车乱停，把消防通道都堵了", "opinion"),
    ("m10", "建议在夜市周边划定临时停车位，安排交警疏导车辆", "suggestion"),
    ("m11", "停车位不够，车辆乱停堵路，周边停车要规划", "opinion"),
    ("m12", "👍👍", "remark"),
    ("m13", "延长营业时间能带动就业，摊主收入增加，我支持延长", "opinion"),
    ("m14", "夜市延长营业对摊主增收有好处，也方便下班晚的年轻人", "opinion"),
    ("m15", "同意楼上", "remark"),
    ("m16", "烧烤摊的油烟净化必须检查到位，不然住户天天都要闻油烟", "opinion"),
]


def make_statements(rows: Sequence[tuple[str, str, str]], *, first_id: int = 1) -> list[Statement]:
    """Statements in chat order, one minute apart, ids counting up from first_id."""
    return [
        Statement(
            id=first_id + i,
            text=text,
            author=f"委员{author_id[1:]}",
            author_id=author_id,
            kind=kind,  # type: ignore[arg-type]
            created_at=START + timedelta(minutes=i),
        )
        for i, (author_id, text, kind) in enumerate(rows)
    ]


StatementFactory = Callable[..., list[Statement]]


def all_quotes(minutes: Minutes) -> Iterator[Quote]:
    """Every quote the minutes carry, wherever it sits."""
    for theme in minutes.themes:
        yield theme.representative
        yield from theme.opinions
        for fold in theme.folds:
            yield fold.kept
            yield from fold.folded
    for standing in (*minutes.consensus, *minutes.divisive):
        yield standing.quote
    for group in minutes.opinion_groups:
        yield from group.distinctive
    for suggestion in minutes.suggestions:
        yield suggestion.quote

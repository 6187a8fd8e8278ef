"""How faithful are the minutes? Runs the summarizer on every labelled consultation.

For each `opinions-<name>.jsonl` in ../shared/data (with its `.keys.json`) it prints: the number
of themes found by the summarizer itself against the number labelled, adjusted Rand index and
NMI of the themes against the labels (on all lines, chatter a class of its own, and on the
labelled opinions only), chatter precision and recall, the answer key's near-duplicate pairs
folded together, the share of folds whose two statements carry different labels (surely not
one point made twice), the share of themes whose representative carries the theme's label, and
each theme's title beside the label it best matches, with the share of titles whose nearest
label by the bundled sentence vectors is that label. Then the mean and the minimum over the
data sets, and leave-one-out figures: every tunable setting of `SummaryOptions` (in `GRIDS`)
is chosen on all data sets but one and scored on that one. A choice that wins on one data set and
loses on the others has not won, so everything is judged on all of them together.

The data is read in place and never copied; nothing in the summarizer was built from its
sentences. The `role` of a line is mapped to the bot's roles the way the bot knows them from
its configuration: the staff of the body that runs the group (the 政协 of "丽水市政协请你来协商",
the 社区 of "南苑社区请你来协商") are its moderators; everyone else is a member.

Run: python bench/minutes_quality.py [--seeds 3] [--no-grid] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, report
from minutes import ConsultationInfo, Embedder, Minutes, Statement, SummaryOptions, summarize
from minutes.embed import default_embedder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHATTER = "闲聊"


@dataclass(frozen=True)
class Grid:
    """Settings of SummaryOptions chosen together, the values tried, and the figure (a key of
    `score`) whose mean over the training data sets chooses them."""

    name: str
    values: dict[str, tuple[Any, ...]]
    objective: str


# Every tunable setting, in the group whose figure it moves; the defaults of SummaryOptions
# are what all data sets together choose. Tie: the earlier value.
GRIDS = [
    Grid(
        "themes and chatter",
        {
            "view_weights": ((2.0, 1.0, 0.5), (2.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
            "thread_weight": (4.0, 0.0, 2.0),
            "reaction_keywords": (1, 2),
            "chatter_log_odds": (0.0, -0.5),
        },
        "ARI all",
    ),
    Grid("folds", {"fold_quantile": (15.0, 30.0, 50.0)}, "fold score"),
    Grid("titles", {"everywhere_share": (0.1, 0.2, 1.0)}, "title match"),
]


@dataclass(frozen=True)
class Consultation:
    """One labelled data set, as the bot would pass it to the summarizer."""

    name: str
    info: ConsultationInfo
    statements: list[Statement]
    label: dict[int, str]
    themes: tuple[str, ...]
    key_pairs: list[tuple[int, int]]


def _number(line_id: str) -> int:
    return int(line_id.lstrip("abcdefghijklmnopqrstuvwxyz"))


def is_staff(role: str, group: str) -> bool:
    """Whether a data set's role names the staff of the body that runs the group.

    "政协干部" in a group of the 政协, "社区干部" in a group of the 社区: its cadres and staff run
    the meeting as the bot's moderators and secretaries. A village's cadre in a group of the
    政协 takes part like anyone else.
    """
    body = role.removesuffix("干部").removesuffix("工作人员")
    return body != role and len(body) >= 2 and body in group


def load(path: Path) -> Consultation:
    """A data set and its answer key."""
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    keys = json.loads(path.with_suffix("").with_suffix(".keys.json").read_text(encoding="utf-8"))
    start = datetime(2024, 5, 10, 1, 30, tzinfo=UTC)
    statements = [
        Statement(
            id=_number(row["id"]),
            text=row["text"],
            author=row["name"],
            author_id=row["member"],
            kind="remark",
            created_at=start + timedelta(minutes=i),
            role="moderator" if is_staff(row["role"], keys["group"]) else "member",
        )
        for i, row in enumerate(rows)
    ]
    info = ConsultationInfo(
        id=1,
        topic=keys["topic"],
        group_name=keys["group"],
        moderators=tuple(dict.fromkeys(s.author for s in statements if s.role != "member")),
    )
    return Consultation(
        name=path.stem.removeprefix("opinions-"),
        info=info,
        statements=statements,
        label={_number(row["id"]): row["theme"] for row in rows},
        themes=tuple(keys["themes"]),
        key_pairs=[(_number(a), _number(b)) for a, b in keys["near_duplicates"]],
    )


def load_all() -> list[Consultation]:
    """Every labelled data set in ../shared/data, by name."""
    return [load(p) for p in sorted(DATA.glob("opinions-*.jsonl"))]


def predicted_labels(minutes: Minutes) -> dict[int, str]:
    """Statement id -> the theme it sits in, or chatter."""
    predicted: dict[int, str] = dict.fromkeys(minutes.chatter_ids, CHATTER)
    for index, theme in enumerate(minutes.themes):
        for quote in theme.opinions:
            predicted[quote.id] = f"theme-{index}"
    return predicted


def matched_labels(minutes: Minutes, label: Mapping[int, str]) -> list[str]:
    """The label each theme best matches: the one most of its statements carry."""
    return [
        Counter(label[q.id] for q in theme.opinions).most_common(1)[0][0]
        for theme in minutes.themes
    ]


def score(minutes: Minutes, data: Consultation) -> dict[str, float]:
    """The figures of one run on one data set (titles apart)."""
    label = data.label
    predicted = predicted_labels(minutes)
    ids = sorted(label)
    truth = [label[i] for i in ids]
    guess = [predicted.get(i, "missing") for i in ids]
    opinion_ids = [i for i in ids if label[i] != CHATTER]

    chatter_true = {i for i in ids if label[i] == CHATTER}
    chatter_found = set(minutes.chatter_ids)
    hit = len(chatter_true & chatter_found)

    fold_of = {
        q.id: n
        for n, fold in enumerate(f for t in minutes.themes for f in t.folds)
        for q in (fold.kept, *fold.folded)
    }
    key_folded = sum(
        1 for a, b in data.key_pairs if a in fold_of and fold_of[a] == fold_of.get(b, -1)
    )
    # A fold of two statements labelled with different themes is surely not one point said
    # twice: the share of such folds stands in for the folding's precision.
    across = sum(1 for a, b in minutes.duplicates if label[a] != label[b])
    majority = matched_labels(minutes, label)
    carries = sum(
        label[theme.representative.id] == m
        for theme, m in zip(minutes.themes, majority, strict=True)
    )
    return {
        "themes": len(minutes.themes),
        "labelled": len(data.themes),
        "ARI all": adjusted_rand_score(truth, guess),
        "NMI all": normalized_mutual_info_score(truth, guess),
        "ARI opinions": adjusted_rand_score(
            [label[i] for i in opinion_ids], [predicted.get(i, "missing") for i in opinion_ids]
        ),
        "chatter P": hit / len(chatter_found) if chatter_found else 0.0,
        "chatter R": hit / len(chatter_true) if chatter_true else 1.0,
        "key pairs": len(data.key_pairs),
        "key pairs folded": key_folded,
        "folds": len(minutes.duplicates),
        "folds across": across,
        "across share": across / len(minutes.duplicates) if minutes.duplicates else 0.0,
        "rep. on label": carries / len(minutes.themes) if minutes.themes else 0.0,
        # What the fold setting is chosen by: key pairs folded, less the folds across labels.
        "fold score": key_folded / max(len(data.key_pairs), 1)
        - (across / len(minutes.duplicates) if minutes.duplicates else 0.0),
    }


def title_match(
    minutes: Minutes, data: Consultation, embed: Callable[[Sequence[str]], npt.NDArray[Any]]
) -> tuple[list[tuple[str, str, str]], float]:
    """Each theme's (title, label it best matches, label nearest to the title) and the share
    of titles whose nearest label is the one they match.

    A theme that gathers mostly chatter matches no label, so its title cannot score.
    """
    if not minutes.themes:
        return [], 0.0
    titles = [t.title for t in minutes.themes]
    vectors = embed([*titles, *data.themes])
    title_vecs, label_vecs = vectors[: len(titles)], vectors[len(titles) :]
    nearest = [data.themes[int(i)] for i in np.argmax(title_vecs @ label_vecs.T, axis=1)]
    matched = matched_labels(minutes, data.label)
    rows = list(zip(titles, matched, nearest, strict=True))
    return rows, sum(m == n for _, m, n in rows) / len(rows)


# --- runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One data set summarized with the adopted settings."""

    data: Consultation
    figures: dict[str, float]
    titles: list[tuple[str, str, str]]
    seconds: float


def vectors_of(
    datasets: Sequence[Consultation], embedder: Embedder | None
) -> dict[str, dict[int, npt.NDArray[np.float32]] | None]:
    """Stored vectors per data set, as the bot's background job would have left them."""
    out: dict[str, dict[int, npt.NDArray[np.float32]] | None] = {}
    for data in datasets:
        if embedder is None:
            out[data.name] = None
            continue
        matrix = embedder.embed([s.text for s in data.statements])
        out[data.name] = {s.id: matrix[i] for i, s in enumerate(data.statements)}
    return out


def run_all(
    datasets: Sequence[Consultation],
    vectors: Mapping[str, Mapping[int, npt.NDArray[np.float32]] | None],
    options: SummaryOptions,
    embed: Callable[[Sequence[str]], npt.NDArray[Any]] | None,
) -> list[Run]:
    """Every data set with one set of options."""
    runs = []
    for data in datasets:
        t0 = time.perf_counter()
        minutes = summarize(data.info, data.statements, vectors=vectors[data.name], options=options)
        seconds = time.perf_counter() - t0
        figures = score(minutes, data)
        titles: list[tuple[str, str, str]] = []
        if embed is not None:
            titles, figures["title match"] = title_match(minutes, data, embed)
        runs.append(Run(data, figures, titles, seconds))
    return runs


def grid_options(base: SummaryOptions, grid: Grid) -> list[SummaryOptions]:
    """Every combination of the grid's values, the rest as in `base`."""
    names = [f.name for f in fields(SummaryOptions)]
    unknown = set(grid.values) - set(names)
    if unknown:
        raise SystemExit(f"grid names no SummaryOptions field: {sorted(unknown)}")
    combos = itertools.product(*grid.values.values())
    return [replace(base, **dict(zip(grid.values, values, strict=True))) for values in combos]


@dataclass
class LeaveOneOut:
    """Settings of one grid chosen without each data set, and how they score on it."""

    grid: Grid
    chosen: dict[str, SummaryOptions]
    held_out: dict[str, float]
    in_sample: SummaryOptions

    def described(self, options: SummaryOptions) -> str:
        """The grid's settings in `options`."""
        return ", ".join(f"{k}={getattr(options, k)}" for k in self.grid.values)


def leave_one_out(
    datasets: Sequence[Consultation],
    vectors: Mapping[str, Mapping[int, npt.NDArray[np.float32]] | None],
    base: SummaryOptions,
    grid: Grid,
    embed: Callable[[Sequence[str]], npt.NDArray[Any]] | None,
) -> LeaveOneOut:
    """For each data set, the grid point with the best mean objective on the others."""
    candidates = grid_options(base, grid)
    titles = embed if grid.objective == "title match" else None
    table = [
        {r.data.name: r.figures[grid.objective] for r in run_all(datasets, vectors, o, titles)}
        for o in candidates
    ]
    names = [d.name for d in datasets]

    def best(on: Iterable[str]) -> int:
        on = list(on)
        # Ties go to the earlier grid point, so the choice never hangs on float noise order.
        return max(
            range(len(candidates)),
            key=lambda c: (round(statistics.mean(table[c][n] for n in on), 6), -c),
        )

    chosen = {}
    held_out = {}
    for name in names:
        c = best(n for n in names if n != name)
        chosen[name] = candidates[c]
        held_out[name] = table[c][name]
    return LeaveOneOut(grid, chosen, held_out, candidates[best(names)])


# --- printing ------------------------------------------------------------------------------

# Each row: its name, how a data set's cell reads, and its key in `summary_values`.
ROWS: list[tuple[str, Callable[[dict[str, float]], str], str]] = [
    ("themes found / labelled", lambda f: f"{f['themes']:.0f} / {f['labelled']:.0f}", ""),
    ("ARI all lines", lambda f: f"{f['ARI all']:.3f}", "ARI all lines"),
    ("NMI all lines", lambda f: f"{f['NMI all']:.3f}", "NMI all lines"),
    ("ARI opinions only", lambda f: f"{f['ARI opinions']:.3f}", "ARI opinions only"),
    ("chatter precision", lambda f: f"{f['chatter P']:.2f}", "chatter precision"),
    ("chatter recall", lambda f: f"{f['chatter R']:.2f}", "chatter recall"),
    (
        "key pairs folded",
        lambda f: f"{f['key pairs folded']:.0f} / {f['key pairs']:.0f}",
        "key pairs folded (share)",
    ),
    (
        "folds across labels",
        lambda f: f"{f['folds across']:.0f} / {f['folds']:.0f}",
        "folds across labels (share)",
    ),
    ("representative on label", lambda f: f"{f['rep. on label']:.2f}", "representative on label"),
    (
        "title's nearest label matches",
        lambda f: f"{f.get('title match', float('nan')):.2f}",
        "title's nearest label matches",
    ),
]


def summary_values(figures: dict[str, float]) -> dict[str, float]:
    """The figures that have a mean and a minimum, as plain numbers."""
    return {
        "themes off by": abs(figures["themes"] - figures["labelled"]),
        "ARI all lines": figures["ARI all"],
        "NMI all lines": figures["NMI all"],
        "ARI opinions only": figures["ARI opinions"],
        "chatter precision": figures["chatter P"],
        "chatter recall": figures["chatter R"],
        "key pairs folded (share)": figures["key pairs folded"] / max(figures["key pairs"], 1),
        "folds across labels (share)": figures["across share"],
        "representative on label": figures["rep. on label"],
        "title's nearest label matches": figures.get("title match", float("nan")),
    }


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A plain table, CJK characters counted as two columns."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(r[c]) for r in [header, *rows]) for c in range(len(header))]
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            " | ".join(c + " " * (w - width(c)) for c, w in zip(line, widths, strict=True)).rstrip()
        )


def print_runs(runs: list[Run], loos: Sequence[LeaveOneOut] = ()) -> None:
    """Per data set, then the mean and the minimum."""
    header = ["figure", *(r.data.name for r in runs), "mean", "worst"]
    rows = []
    summaries = [summary_values(r.figures) for r in runs]
    for name, show, key in ROWS:
        cells = [show(r.figures) for r in runs]
        if not key:
            # For the count, the mean and worst distance from the labelled number.
            off = [s["themes off by"] for s in summaries]
            rows.append([name, *cells, f"±{statistics.mean(off):.1f}", f"±{max(off):.0f}"])
            continue
        values = [s[key] for s in summaries]
        worst = max(values) if "across" in name else min(values)
        rows.append([name, *cells, f"{statistics.mean(values):.3f}", f"{worst:.3f}"])
    rows.append(
        ["seconds (vectors stored)", *(f"{r.seconds:.2f}" for r in runs), "", ""],
    )
    for loo in loos:
        held = [loo.held_out[r.data.name] for r in runs]
        rows.append(
            [
                f"{loo.grid.objective}, leave-one-out",
                *(f"{h:.3f}" for h in held),
                f"{statistics.mean(held):.3f}",
                f"{min(held):.3f}",
            ]
        )
    print_table(header, rows)


def main() -> None:
    """Run every data set and print the figures, or (--json) the figures `make bench` shows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1 for the spread")
    parser.add_argument("--no-grid", action="store_true", help="skip the leave-one-out grid")
    args = parser.parse_args()

    datasets = load_all()
    if not datasets:
        raise SystemExit(f"no opinions-*.jsonl in {DATA}")
    embedder = default_embedder()
    t0 = time.perf_counter()
    vectors = vectors_of(datasets, embedder)
    lines = sum(len(d.statements) for d in datasets)
    print(f"embedding {lines} lines: {time.perf_counter() - t0:.1f} s (not below)", file=sys.stderr)
    embed = embedder.embed if embedder is not None else None
    base = SummaryOptions()
    runs = run_all(datasets, vectors, base, embed)
    loos = (
        []
        if args.no_grid
        else [leave_one_out(datasets, vectors, base, grid, embed) for grid in GRIDS]
    )
    fallback = run_all(datasets, dict.fromkeys(vectors), base, None)

    if args.json:
        report(figures_of(runs, loos, fallback))
        return
    method = f"{embedder.name} + TF-IDF" if embedder is not None else "TF-IDF only"
    print(f"data: {DATA} ({len(datasets)} data sets, {lines} lines); method: {method}\n")
    print_runs(runs, loos)
    print()
    print_table(
        ["fallback (TF-IDF only)", *(r.data.name for r in fallback), "mean", "min"],
        [
            [
                name,
                *(f"{summary_values(r.figures)[name]:.3f}" for r in fallback),
                f"{statistics.mean(summary_values(r.figures)[name] for r in fallback):.3f}",
                f"{min(summary_values(r.figures)[name] for r in fallback):.3f}",
            ]
            for name in ("ARI all lines", "chatter precision", "chatter recall")
        ],
    )
    for run in runs:
        print(f"\n{run.data.name}: title — label it best matches (nearest label if another)")
        for title, matched, nearest in run.titles:
            mark = "" if matched == nearest else f"   [nearest: {nearest}]"
            print(f"  {title} — {matched}{mark}")
    for loo in loos:
        print(f"\nleave-one-out, {loo.grid.name} (chosen by {loo.grid.objective}):")
        for name, options in loo.chosen.items():
            print(f"  without {name}: {loo.described(options)}")
        print(f"  all data sets: {loo.described(loo.in_sample)} (defaults: {loo.described(base)})")
    if args.seeds > 1:
        spread = []
        for seed in range(args.seeds):
            seeded = run_all(datasets, vectors, replace(base, seed=seed), None)
            spread.append([r.figures["ARI all"] for r in seeded])
        print("\nARI all lines by seed (" + ", ".join(d.name for d in datasets) + "):")
        for seed, values in enumerate(spread):
            mean = statistics.mean(values)
            print(f"  seed {seed}: " + " ".join(f"{v:.3f}" for v in values) + f"; mean {mean:.3f}")


def figures_of(runs: list[Run], loos: Sequence[LeaveOneOut], fallback: list[Run]) -> list[Figure]:
    """The figures `make bench` shows: the mean and the minimum over the data sets."""
    n = len(runs)
    bench = "minutes-quality"
    summaries = [summary_values(r.figures) for r in runs]
    aims = {
        "ARI all lines": ("≥ 0.50", "≥ 0.45"),
        "chatter precision": ("", "≥ 0.90"),
        "chatter recall": ("", "≥ 0.90"),
        "key pairs folded (share)": ("", "≥ 0.67"),
        "folds across labels (share)": ("", "≤ 0.15"),
        "title's nearest label matches": ("", "≥ 0.8"),
    }
    figures = [
        Figure(
            bench,
            f"themes found, distance from labelled (mean / worst of {n})",
            statistics.mean(s["themes off by"] for s in summaries),
            f"worst {max(s['themes off by'] for s in summaries):.0f}",
            "≤ 2",
        )
    ]
    for key in summaries[0]:
        if key == "themes off by":
            continue
        values = [s[key] for s in summaries]
        worst_is_max = "across" in key
        mean_aim, min_aim = aims.get(key, ("", ""))
        figures.append(Figure(bench, f"{key}, mean of {n}", statistics.mean(values), "", mean_aim))
        figures.append(
            Figure(
                bench,
                f"{key}, {'max' if worst_is_max else 'min'} of {n}",
                max(values) if worst_is_max else min(values),
                "",
                min_aim,
            )
        )
    for loo in loos:
        held = [loo.held_out[r.data.name] for r in runs]
        in_sample = statistics.mean(r.figures[loo.grid.objective] for r in runs)
        figures.append(
            Figure(
                bench,
                f"{loo.grid.objective}, leave-one-out mean of {n}",
                statistics.mean(held),
                f"in-sample {in_sample:.3f}",
                "within 0.05",
            )
        )
    figures.append(
        Figure(
            bench,
            f"ARI all lines, TF-IDF only (fallback), mean of {n}",
            statistics.mean(r.figures["ARI all"] for r in fallback),
            "",
        )
    )
    figures.append(
        Figure(
            bench,
            f"summarize ~{round(statistics.mean(len(r.data.statements) for r in runs))} lines "
            "(vectors stored), mean",
            statistics.mean(r.seconds for r in runs),
            "s",
        )
    )
    return figures


if __name__ == "__main__":
    main()

"""The offline summarizer: statements, stances and polls in; `Minutes` out. Pure and seeded."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from minutes.chatter import chatter_log_odds
from minutes.cluster import Views, build_views, find_themes, near_duplicates
from minutes.embed import Embedder
from minutes.model import ConsultationInfo, PollSummary, Stance, Statement
from minutes.result import (
    Fold,
    Method,
    Minutes,
    Participation,
    Quote,
    StanceCount,
    Suggestion,
    Theme,
)
from minutes.stances import analyse_stances, count_stances
from minutes.text import content_words, is_courteous, is_keyword, is_title_word
from minutes.titles import ThemeText, choose_titles


@dataclass(frozen=True)
class SummaryOptions:
    """Knobs of the summarizer, with the defaults documented in docs/minutes.md.

    The defaults were chosen on all labelled consultations together; `bench/minutes_quality.py`
    shows what each choice does on each of them and what is chosen without each one.
    """

    max_themes: int = 12
    keywords_per_theme: int = 5
    # A line naming at most this many matters is a reaction ("收到", "+1", "同意楼上", "辛苦了"):
    # an opinion names a matter and says something about it.
    reaction_keywords: int = 1
    # Posterior log odds (minutes.chatter) above which a line is chatter.
    chatter_log_odds: float = 0.0
    # Weights of the word, character and sentence-vector views in the similarity of themes.
    view_weights: tuple[float, float, float] = (2.0, 1.0, 0.5)
    # How strongly lines said one after the other are tied, in typical graph edges, when the
    # chat is threaded (scaled down to nothing when it is not; see `cluster.threading`).
    thread_weight: float = 4.0
    # Near duplicates: weights of the views (sentence vectors most), and the percentile of all
    # statements' nearest-neighbour similarities that a mutual nearest pair must reach.
    fold_weights: tuple[float, float, float] = (0.0, 1.0, 2.0)
    fold_quantile: float = 15.0
    # A word in at least this share of the statements of half the themes or more ("橘子" where
    # citrus is discussed) names the consultation like its topic does: no title leans on it.
    everywhere_share: float = 0.1
    seed: int = 0


def summarize(
    info: ConsultationInfo,
    statements: Sequence[Statement],
    stances: Sequence[Stance] = (),
    polls: Sequence[PollSummary] = (),
    *,
    vectors: Mapping[int, npt.ArrayLike] | None = None,
    embedder: Embedder | None = None,
    options: SummaryOptions | None = None,
) -> Minutes:
    """Summarize a consultation; every theme, quote and figure cites statement ids."""
    opts = options or SummaryOptions()
    live = sorted({s.id: s for s in statements if not s.retracted}.values(), key=lambda s: s.id)
    live_ids = {s.id for s in live}
    stances = [s for s in stances if s.statement_id in live_ids]
    words = [content_words(s.text) for s in live]
    quotes = {s.id: _quote(s) for s in live}

    candidates = [i for i, s in enumerate(live) if s.text.strip()]
    chatter = {s.id for s in live if not s.text.strip()}

    matrix, method = _vectors_for([live[i] for i in candidates], vectors, embedder)
    views = build_views(
        [live[i].text for i in candidates],
        [words[i] for i in candidates],
        matrix,
        weights=opts.view_weights,
    )
    keywords = np.asarray(
        [sum(1 for w in words[i] if is_keyword(w)) for i in candidates], dtype=np.int64
    )
    odds = chatter_log_odds(
        views,
        keywords,
        [live[i].role for i in candidates],
        reaction_keywords=opts.reaction_keywords,
        seed=opts.seed,
    )
    is_chatter = (odds > opts.chatter_log_odds) | (keywords <= opts.reaction_keywords)
    if (~is_chatter).any():
        # Thanks, greetings and apologies are chatter by definition, unless the line goes on
        # to name as many matters as a typical opinion ("感谢政府的补贴，但建议……"): a
        # department's "谢谢大家，农业农村局会认真研究吸收" looks too much like its opinions.
        courteous = np.asarray([is_courteous(words[i]) for i in candidates], dtype=bool)
        is_chatter |= courteous & (keywords < np.median(keywords[~is_chatter]))
    chatter.update(live[candidates[i]].id for i in np.flatnonzero(is_chatter).tolist())
    rows = np.flatnonzero(~is_chatter).astype(np.int64)
    labels = find_themes(
        views.subset(rows),
        max_themes=opts.max_themes,
        seed=opts.seed,
        thread_weight=opts.thread_weight,
    )
    opinion_groups = [rows[g] for g in _groups(labels)]

    duplicates: list[tuple[int, int]] = []
    theme_of: dict[int, int] = {}
    stance_counts = count_stances(stances)
    # Words that name a matter of the topic or plan ("意见" in "听取居民意见" names none).
    topic_words = {w for w in content_words(f"{info.topic} {info.plan or ''}") if is_keyword(w)}
    fold_groups = _fold_duplicates(views, opinion_groups, opts)
    all_counts = _document_frequencies(words, candidates, opinion_groups)
    scored: list[tuple[Theme, dict[str, float]]] = []
    for members, folds in zip(opinion_groups, fold_groups, strict=True):
        theme, pairs, scores = _theme(
            views,
            members,
            {int(i): live[candidates[i]] for i in members},
            [words[candidates[i]] for i in members],
            folds,
            all_counts,
            stance_counts,
            topic_words,
            opts,
        )
        scored.append((theme, scores))
        duplicates.extend(pairs)
    scored.sort(
        key=lambda ts: (
            -len(ts[0].member_ids),
            -len(ts[0].opinions),
            min(q.id for q in ts[0].opinions),
        )
    )
    titles = choose_titles(
        [ThemeText([q.text for q in t.opinions], scores) for t, scores in scored],
        topic_words
        | _everywhere(
            [[words[candidates[i]] for i in members] for members in opinion_groups],
            opts.everywhere_share,
        ),
        [t.title for t, _ in scored],
    )
    themes = [replace(t, title=title) for (t, _), title in zip(scored, titles, strict=True)]
    for index, theme in enumerate(themes):
        for quote in theme.opinions:
            theme_of[quote.id] = index

    substantive = {sid: q for sid, q in quotes.items() if sid not in chatter}
    analysis = analyse_stances(stances, substantive, seed=opts.seed)
    suggestions = tuple(
        Suggestion(quotes[s.id], tuple(dict.fromkeys(s.seconds)), theme_of.get(s.id))
        for s in sorted(
            (s for s in live if s.id not in chatter and _is_suggestion(s)),
            key=lambda s: (-len(set(s.seconds)), s.id),
        )
    )
    participation = _participation(info, live, stances, polls, chatter)
    minutes = Minutes(
        consultation=info,
        participation=participation,
        overview="",
        themes=tuple(themes),
        chatter_ids=tuple(sorted(chatter)),
        duplicates=tuple(sorted(duplicates)),
        polls=tuple(polls),
        consensus=analysis.consensus,
        divisive=analysis.divisive,
        opinion_groups=analysis.groups,
        suggestions=suggestions,
        method=method,
    )
    return _with_overview(minutes)


def _quote(statement: Statement) -> Quote:
    return Quote(statement.id, statement.text, statement.author, statement.author_id)


def _is_suggestion(statement: Statement) -> bool:
    # Members who type a plain remark still mark a suggestion the Chinese way: "建议…".
    return statement.kind == "suggestion" or statement.text.lstrip().startswith("建议")


def _vectors_for(
    statements: Sequence[Statement],
    vectors: Mapping[int, npt.ArrayLike] | None,
    embedder: Embedder | None,
) -> tuple[npt.NDArray[np.float32] | None, Method]:
    """Stored vectors for all statements, the missing ones computed if an embedder is given."""
    if not statements:
        return None, "tfidf"
    stored = vectors or {}
    missing = [s for s in statements if s.id not in stored]
    computed: dict[int, npt.NDArray[np.float32]] = {}
    if missing:
        if embedder is None:
            # Vectors of one space for everyone or none: a partial set would skew the themes.
            return None, "tfidf"
        rows = embedder.embed([s.text for s in missing])
        computed = {s.id: rows[i] for i, s in enumerate(missing)}
    matrix = np.stack(
        [
            np.asarray(stored[s.id] if s.id in stored else computed[s.id], dtype=np.float32)
            for s in statements
        ]
    )
    return matrix, "embeddings+tfidf"


def _groups(labels: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    if not len(labels):
        return []
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [np.asarray(g, dtype=np.int64) for g in np.split(order, bounds)]


def _document_frequencies(
    words: Sequence[list[str]],
    candidates: Sequence[int],
    groups: Sequence[npt.NDArray[np.int64]],
) -> tuple[Counter[str], float]:
    """Statement counts of each word over all themes, and the mean per theme."""
    total: Counter[str] = Counter()
    for members in groups:
        for i in members:
            total.update(set(words[candidates[i]]))
    mean_words = sum(total.values()) / max(len(groups), 1)
    return total, mean_words


def _word_scores(
    theme_words: Sequence[list[str]], corpus: tuple[Counter[str], float]
) -> dict[str, float]:
    """How much each word sets this theme apart: p(w|theme) * log(p(w|theme) / p(w)).

    This is the theme's share of the Kullback-Leibler divergence from the whole discussion,
    the distinctiveness measure of topic-model labelling: a word frequent everywhere
    ("建议", the topic itself) scores near zero, a word frequent only here scores high.
    Only words that may name a matter and occur in two statements or more are scored.
    """
    counts: Counter[str] = Counter()
    for ws in theme_words:
        # Each statement counts a word once, so one long message cannot name a theme alone.
        counts.update(set(ws))
    total_counts, _ = corpus
    grand_total = sum(total_counts.values()) or 1
    size = sum(counts.values()) or 1
    scores = {}
    for word, count in counts.items():
        if not is_keyword(word) or count < 2:
            continue
        p_theme = count / size
        p_all = total_counts[word] / grand_total
        scores[word] = p_theme * math.log(p_theme / p_all)
    return scores


def _everywhere(groups: Sequence[Sequence[list[str]]], share: float) -> set[str]:
    """Words that name the consultation rather than a theme: each is said in at least `share`
    of the statements of at least half of the themes ("橘子" where citrus is discussed)."""
    if len(groups) < 2:
        return set()
    themes_using: Counter[str] = Counter()
    for theme_words in groups:
        counts: Counter[str] = Counter()
        for ws in theme_words:
            counts.update(set(ws))
        themes_using.update(w for w, c in counts.items() if c >= share * len(theme_words))
    return {w for w, c in themes_using.items() if c >= max(2, len(groups) / 2)}


def _keywords(scores: Mapping[str, float], limit: int) -> tuple[str, ...]:
    """The most distinctive words, best first."""
    return tuple(sorted(scores, key=lambda w: (-scores[w], w))[:limit])


def _fold_duplicates(
    views: Views, groups: Sequence[npt.NDArray[np.int64]], opts: SummaryOptions
) -> list[list[list[int]]]:
    """Per theme, its groups of statements that say the same thing, the most central first.

    A paraphrase is a matter of meaning more than of shared words ("公积金能不能给加电梯开个
    口子" against "建议放宽住房公积金提取"), so the sentence vectors weigh most here, with the
    characters; word overlap, which sets themes apart, would fold lines that merely share a
    matter.
    """
    fold_views = replace(views, weights=opts.fold_weights)
    rank: dict[int, float] = {}
    for g in groups:
        rank.update(zip(g.tolist(), views.centrality(g).tolist(), strict=True))
    parent = {m: m for g in groups for m in g.tolist()}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in near_duplicates(fold_views, groups, quantile=opts.fold_quantile, seed=opts.seed):
        parent[root(a)] = root(b)
    folds: list[list[list[int]]] = []
    for g in groups:
        clusters: dict[int, list[int]] = {}
        for m in g.tolist():
            clusters.setdefault(root(m), []).append(m)
        folds.append(
            [sorted(c, key=lambda m: (-rank[m], m)) for c in clusters.values() if len(c) > 1]
        )
    return folds


def _theme(
    views: Views,
    members: npt.NDArray[np.int64],
    by_index: Mapping[int, Statement],
    theme_words: list[list[str]],
    fold_groups: Sequence[Sequence[int]],
    corpus: tuple[Counter[str], float],
    stance_counts: Mapping[int, StanceCount],
    topic_words: set[str],
    opts: SummaryOptions,
) -> tuple[Theme, list[tuple[int, int]], dict[str, float]]:
    centrality = views.centrality(members)
    statements = [by_index[int(m)] for m in members]
    rank = {int(m): float(c) for m, c in zip(members, centrality, strict=True)}
    representative = _quote(by_index[int(members[int(np.argmax(centrality))])])
    scores = _word_scores(theme_words, corpus)
    keywords = _keywords(scores, opts.keywords_per_theme)
    # Only when no phrase of the theme will do (see minutes.titles): its most distinctive
    # noun that is not the topic, which every reader knows, or the start of its medoid.
    nouns = [w for w in keywords if is_title_word(w) and w not in topic_words]
    title = nouns[0] if nouns else _fallback_title(representative.text)

    folds, pairs = _folds(fold_groups, by_index)
    agree = sum(stance_counts.get(s.id, StanceCount()).agree for s in statements)
    disagree = sum(stance_counts.get(s.id, StanceCount()).disagree for s in statements)
    passed = sum(stance_counts.get(s.id, StanceCount()).passed for s in statements)
    theme = Theme(
        title=title,
        keywords=keywords,
        opinions=tuple(
            _quote(by_index[m]) for m in sorted(rank, key=lambda m: (-rank[m], by_index[m].id))
        ),
        representative=representative,
        member_ids=tuple(sorted({s.author_id for s in statements})),
        seconds=sum(len(set(s.seconds)) for s in statements),
        stances=StanceCount(agree, disagree, passed),
        folds=folds,
    )
    return theme, pairs, scores


def _fallback_title(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 12 else flat[:12] + "…"


def _folds(
    fold_groups: Sequence[Sequence[int]], by_index: Mapping[int, Statement]
) -> tuple[tuple[Fold, ...], list[tuple[int, int]]]:
    """Folds of a theme (the kept statement speaks for the rest) and their id pairs."""
    folds: list[Fold] = []
    pairs: list[tuple[int, int]] = []
    for group in fold_groups:
        kept = by_index[group[0]]
        rest = sorted((by_index[m] for m in group[1:]), key=lambda s: s.id)
        folds.append(
            Fold(
                kept=_quote(kept),
                folded=tuple(_quote(s) for s in rest),
                member_ids=tuple(sorted({kept.author_id, *(s.author_id for s in rest)})),
            )
        )
        pairs.extend((min(kept.id, s.id), max(kept.id, s.id)) for s in rest)
    folds.sort(key=lambda f: (-len(f.member_ids), f.kept.id))
    return tuple(folds), pairs


def _participation(
    info: ConsultationInfo,
    live: Sequence[Statement],
    stances: Sequence[Stance],
    polls: Sequence[PollSummary],
    chatter: set[int],
) -> Participation:
    kinds = Counter(s.kind for s in live)
    latest = {(s.statement_id, s.member_id) for s in stances}
    return Participation(
        statements=len(live),
        opinions=kinds["opinion"],
        suggestions=sum(1 for s in live if s.id not in chatter and _is_suggestion(s)),
        remarks=kinds["remark"],
        speakers=len({s.author_id for s in live}),
        chatter=len(chatter),
        stances=len(latest),
        stance_members=len({m for _, m in latest}),
        seconds=sum(len(set(s.seconds)) for s in live),
        poll_voters=max((p.voters for p in polls), default=0),
        attendees=len(info.attendees),
    )


def _with_overview(minutes: Minutes) -> Minutes:
    return replace(minutes, overview=build_overview(minutes))


def build_overview(minutes: Minutes) -> str:
    """A factual paragraph built only from the counts and titles of the minutes."""
    p = minutes.participation
    parts = [
        f"本次协商共收到发言{p.statements}条，{p.speakers}人发言",
    ]
    if p.suggestions:
        parts.append(f"其中建议{p.suggestions}条")
    text = "，".join(parts) + "。"
    if minutes.themes:
        top = "、".join(f"“{t.title}”" for t in minutes.themes[:3])
        text += f"意见归纳为{len(minutes.themes)}个主题，讨论较多的是{top}。"
    if p.chatter:
        text += f"另有{p.chatter}条问候、附和等闲聊未计入主题。"
    closed = sum(1 for poll in minutes.polls if poll.closed)
    still_open = len(minutes.polls) - closed
    if closed:
        text += f"共进行表决{closed}项。"
    if still_open:
        text += f"另有{still_open}项表决进行中。"
    if minutes.consensus:
        text += f"{p.stance_members}人对意见表明了态度，形成共识{len(minutes.consensus)}条"
        text += f"，存在分歧{len(minutes.divisive)}条。" if minutes.divisive else "。"
    elif minutes.divisive:
        text += f"{p.stance_members}人对意见表明了态度，存在分歧{len(minutes.divisive)}条。"
    return text

"""Pol.is-style analysis of agree/disagree marks: opinion groups, consensus and division.

Written here rather than taken from a library because no maintained Python package carries
the Pol.is math (the reference implementation is Clojure); the method follows its published
description (Small et al., "Polis: Scaling Deliberation by Mapping High Dimensional Opinion
Spaces", 2021): missing marks take the statement's mean, PCA to two components, k-means with
k from 2 to 5 chosen by silhouette, Laplace-smoothed agreement per group, and consensus as
agreement that holds in every group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from minutes.model import AGREE, DISAGREE, Stance
from minutes.result import OpinionGroup, Quote, StanceCount, StatementStanding

# Pol.is counts a member in the opinion map after 7 marks (or all statements, if fewer).
MIN_MARKS_PER_MEMBER = 7
# Fewer members than this cannot show two groups of a meaningful size.
MIN_MEMBERS_FOR_GROUPS = 6
MIN_GROUP_SIZE = 2
# Below this silhouette the members do not split into groups; one crowd is reported instead.
MIN_SILHOUETTE = 0.2
# A statement needs this many marks before it can be called consensus or divisive.
MIN_MARKS_PER_STATEMENT = 3
# Consensus: smoothed agreement (or disagreement) at least this in every group.
CONSENSUS_SHARE = 0.6
# Without groups, the whole crowd must reach this smoothed share.
CROWD_CONSENSUS_SHARE = 0.7
# Divisive: groups' smoothed agreement this far apart, or, without groups, a minority share
# of at least this among the agree and disagree marks.
DIVISIVE_GAP = 0.4
CROWD_DIVISIVE_MINORITY = 1 / 3
# Groups may split on a statement the crowd nearly agrees on; it is divisive only if the
# smaller side still holds this share of the agree and disagree marks.
GROUP_DIVISIVE_MINORITY = 0.2
# A statement is distinctive for a group when the group agrees this much more than the rest.
DISTINCTIVE_GAP = 0.3
MAX_LISTED = 10


@dataclass(frozen=True)
class StanceAnalysis:
    """Consensus, division and groups found in the marks."""

    counts: Mapping[int, StanceCount]
    consensus: tuple[StatementStanding, ...]
    divisive: tuple[StatementStanding, ...]
    groups: tuple[OpinionGroup, ...]


def count_stances(stances: Iterable[Stance]) -> dict[int, StanceCount]:
    """Agree, disagree and pass marks per statement id (the last mark of a member counts)."""
    latest: dict[tuple[int, str], int] = {}
    for stance in stances:
        latest[(stance.statement_id, stance.member_id)] = stance.value
    tally: dict[int, list[int]] = {}
    for (statement_id, _), value in latest.items():
        row = tally.setdefault(statement_id, [0, 0, 0])
        row[0 if value == AGREE else 1 if value == DISAGREE else 2] += 1
    return {sid: StanceCount(a, d, p) for sid, (a, d, p) in tally.items()}


def _smoothed(part: np.ndarray, total: np.ndarray) -> np.ndarray:
    return (part + 1.0) / (total + 2.0)


def analyse_stances(
    stances: Sequence[Stance], quotes: Mapping[int, Quote], *, seed: int = 0
) -> StanceAnalysis:
    """Find opinion groups, consensus and divisive statements among the given statements."""
    latest: dict[tuple[int, str], int] = {}
    for stance in stances:
        if stance.statement_id in quotes:
            latest[(stance.statement_id, stance.member_id)] = stance.value
    counts = count_stances(
        Stance(sid, member, value)  # type: ignore[arg-type]
        for (sid, member), value in latest.items()
    )
    if not latest:
        return StanceAnalysis(counts, (), (), ())
    statement_ids = sorted({sid for sid, _ in latest})
    member_ids = sorted({member for _, member in latest})
    col = {sid: j for j, sid in enumerate(statement_ids)}
    row = {m: i for i, m in enumerate(member_ids)}
    votes = np.full((len(member_ids), len(statement_ids)), np.nan)
    for (sid, member), value in latest.items():
        votes[row[member], col[sid]] = value

    labels = _opinion_groups(votes, seed)
    group_count = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    agree = votes == AGREE
    disagree = votes == DISAGREE
    marked = ~np.isnan(votes)

    standings: list[tuple[float, StatementStanding]] = []
    divisive: list[tuple[float, StatementStanding]] = []
    for sid in statement_ids:
        j = col[sid]
        count = counts[sid]
        if count.total < MIN_MARKS_PER_STATEMENT:
            continue
        if group_count >= 2:
            in_group = [labels == g for g in range(group_count)]
            total = np.array([marked[g, j].sum() for g in in_group], dtype=float)
            p_agree = _smoothed(np.array([agree[g, j].sum() for g in in_group], float), total)
            p_disagree = _smoothed(np.array([disagree[g, j].sum() for g in in_group], float), total)
            shares = tuple(round(float(x), 3) for x in p_agree)
            if p_agree.min() >= CONSENSUS_SHARE:
                standing = StatementStanding(quotes[sid], count, shares, "agree")
                standings.append((float(np.prod(p_agree)), standing))
            elif p_disagree.min() >= CONSENSUS_SHARE:
                standing = StatementStanding(quotes[sid], count, shares, "disagree")
                standings.append((float(np.prod(p_disagree)), standing))
            gap = float(p_agree.max() - p_agree.min())
            if gap >= DIVISIVE_GAP and np.all(total > 0) and _contested(count):
                divisive.append((gap, StatementStanding(quotes[sid], count, shares, "split")))
        else:
            total_marks = float(count.total)
            p_a = (count.agree + 1) / (total_marks + 2)
            p_d = (count.disagree + 1) / (total_marks + 2)
            if p_a >= CROWD_CONSENSUS_SHARE:
                standings.append((p_a, StatementStanding(quotes[sid], count, (), "agree")))
            elif p_d >= CROWD_CONSENSUS_SHARE:
                standings.append((p_d, StatementStanding(quotes[sid], count, (), "disagree")))
            if _contested(count, CROWD_DIVISIVE_MINORITY):
                minority = min(count.agree, count.disagree) / (count.agree + count.disagree)
                divisive.append((minority, StatementStanding(quotes[sid], count, (), "split")))

    groups = _describe_groups(labels, group_count, member_ids, statement_ids, votes, quotes)
    return StanceAnalysis(
        counts=counts,
        consensus=tuple(s for _, s in sorted(standings, key=lambda t: -t[0])[:MAX_LISTED]),
        divisive=tuple(s for _, s in sorted(divisive, key=lambda t: -t[0])[:MAX_LISTED]),
        groups=groups,
    )


def _contested(count: StanceCount, minority_share: float = GROUP_DIVISIVE_MINORITY) -> bool:
    """Both sides hold at least two members and the smaller side a fair share."""
    decided = count.agree + count.disagree
    if count.agree < 2 or count.disagree < 2:
        return False
    return min(count.agree, count.disagree) / decided >= minority_share


def _opinion_groups(votes: np.ndarray, seed: int) -> np.ndarray:
    """Group labels per member (-1: not placed), or all -1 when there are no clear groups."""
    members, statements = votes.shape
    labels = np.full(members, -1, dtype=np.int64)
    needed = min(MIN_MARKS_PER_MEMBER, statements)
    eligible = (~np.isnan(votes)).sum(axis=1) >= needed
    if eligible.sum() < MIN_MEMBERS_FOR_GROUPS or statements < 2:
        return labels
    matrix = votes[eligible]
    # Only statements someone on the map has marked place members on it: a statement marked
    # only by members with too few marks has no mean to fill its gaps with.
    matrix = matrix[:, ~np.isnan(matrix).all(axis=0)]
    if matrix.shape[1] < 2:
        return labels
    column_mean = np.nanmean(matrix, axis=0)
    filled = np.where(np.isnan(matrix), column_mean, matrix)
    if np.allclose(filled.std(axis=0), 0):
        return labels
    coords = PCA(n_components=2, random_state=seed).fit_transform(filled)
    best_score, best = -1.0, None
    # k-means cannot find more groups than there are distinct positions on the map.
    distinct = len(np.unique(coords.round(6), axis=0))
    for k in range(2, min(5, len(coords) // MIN_GROUP_SIZE, distinct) + 1):
        found = KMeans(k, n_init=4, random_state=seed).fit_predict(coords)
        if np.bincount(found).min() < MIN_GROUP_SIZE or len(set(found)) < 2:
            continue
        score = float(silhouette_score(coords, found))
        if score > best_score:
            best_score, best = score, found
    if best is None or best_score < MIN_SILHOUETTE:
        return labels
    # Largest group first, so group numbers read the same way each time.
    order = np.argsort(-np.bincount(best), kind="stable")
    rename = {int(old): new for new, old in enumerate(order)}
    labels[eligible] = [rename[int(g)] for g in best]
    return labels


def _describe_groups(
    labels: np.ndarray,
    group_count: int,
    member_ids: list[str],
    statement_ids: list[int],
    votes: np.ndarray,
    quotes: Mapping[int, Quote],
) -> tuple[OpinionGroup, ...]:
    if group_count < 2:
        return ()
    agree = (votes == AGREE).astype(float)
    marked = (~np.isnan(votes)).astype(float)
    groups = []
    for g in range(group_count):
        inside = labels == g
        outside = (labels >= 0) & ~inside
        p_in = _smoothed(agree[inside].sum(0), marked[inside].sum(0))
        p_out = _smoothed(agree[outside].sum(0), marked[outside].sum(0))
        gap = p_in - p_out
        order = np.argsort(-gap)
        distinctive = tuple(
            quotes[statement_ids[j]] for j in order[:3] if gap[j] >= DISTINCTIVE_GAP
        )
        members = tuple(m for m, inside_m in zip(member_ids, inside, strict=True) if inside_m)
        groups.append(OpinionGroup(index=g + 1, member_ids=members, distinctive=distinctive))
    return tuple(groups)

"""Which statements are chatter: greetings, thanks, "收到", "+1", "网有点卡", and the moderator's
running of the meeting ("请大家踊跃发言", "时间关系，今天先到这里").

No list of such phrases: every consultation teaches its own. The lines that are surely chatter
are those naming almost nothing (at most `reaction_keywords` words that could name a matter:
"收到", "👍👍", "同意楼上"); the lines that are surely opinions are members' lines naming more
matters than their median line. Chat lines resemble each other far more than they resemble
opinions (in the sentence vectors of the four labelled consultations, 81–94 % of a chatter
line's five nearest lines are chatter, and 1–4 % of an opinion's), so both kinds are spread
over a nearest-neighbour graph (label spreading, Zhou et al. 2004) and each line gets the log
odds of reaching it from the chatter side rather than from the opinion side. Each side's seeds
weigh one in total (class mass normalisation, Zhu et al. 2003), so the many opinions do not
drown the few reactions.

How often a role chats is learnt per consultation as well. The moderator's lines are long and
name the topic; in three of the four labelled consultations every one of them is procedure, in
the fourth (a community's own consultation) the community's staff argue matters like anyone. So
each role's share of chatter is estimated from its lines (expectation-maximisation: the share
is the mean posterior of the role's lines, Beta(1, 1)-smoothed), and that share's log odds are
the prior added to each line's evidence. A line is chatter when the posterior passes one half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from minutes.cluster import FloatArray, IntArray, Views, graph_sample, knn_graph, neighbour_count

BoolArray = npt.NDArray[np.bool_]
# Log odds are clipped here: beyond it a line is as sure as it gets, and the extension to lines
# outside the graph sample (a regression) should not chase the extremes.
_CLIP = 8.0
# The views of the chat graph: sentence vectors alone. Adding words or characters traded
# recall for precision on the labelled consultations and gained nothing overall.
CHAT_WEIGHTS = (0.0, 0.0, 1.0)


def spread(
    graph: sp.csr_matrix, seeds: FloatArray, alpha: float, iterations: int = 40
) -> FloatArray:
    """Label spreading of one class: F = (1 - alpha) Y + alpha S F with S = D^-1/2 W D^-1/2."""
    degree = np.asarray(graph.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    step = (scale @ graph @ scale).tocsr()
    start = (seeds / max(float(seeds.sum()), 1e-12)).astype(np.float64)
    found = start.copy()
    for _ in range(iterations):
        found = (1 - alpha) * start + alpha * (step @ found)
    return found.astype(np.float32)


def chatter_log_odds(
    views: Views,
    keywords: IntArray,
    roles: Sequence[str],
    *,
    reaction_keywords: int,
    member_role: str = "member",
    alpha: float = 0.8,
    seed: int = 0,
) -> FloatArray:
    """Posterior log odds, per statement, that it is chatter rather than an opinion.

    Statements come in chat order; `keywords` counts the words of each that could name a
    matter; `roles` is each speaker's role. Opinions are learnt from the lines of
    `member_role` only: the other roles' lines are what is in doubt.
    """
    evidence = chatter_evidence(
        views,
        keywords,
        np.asarray([r == member_role for r in roles], dtype=bool),
        reaction_keywords=reaction_keywords,
        alpha=alpha,
        seed=seed,
    )
    return evidence + role_prior(evidence, roles)


# Before any line is seen, how a role's lines lean, as pseudo-counts (chatter, opinions) of a
# Beta prior: a member's could go either way (Beta(1, 1)); the moderator and the secretary run
# the meeting (DESIGN.md: they open it, move its stages, open and close polls), so their
# remarks lean to procedure as much as four and a half chatter lines in five would. Their
# own lines soon outweigh it: in the community's consultation, where the staff argue matters
# in 27 of their 32 lines, the prior ends well below zero.
STAFF_ROLES = frozenset({"moderator", "secretary"})
STAFF_LEANING = (4.5, 0.5)
OTHERS_LEANING = (1.0, 1.0)


def role_prior(evidence: FloatArray, roles: Sequence[str], iterations: int = 10) -> FloatArray:
    """Per statement, the log odds that its role's lines are chatter, from this consultation:
    the mean posterior of the role's lines under a Beta prior (STAFF_LEANING for the
    moderator and secretary, Beta(1, 1) for others), found by iterating."""
    groups = [
        (np.asarray([r == role for r in roles], dtype=bool), role) for role in sorted(set(roles))
    ]
    prior = np.zeros(len(evidence), dtype=np.float64)
    for _ in range(iterations):
        posterior = 1.0 / (1.0 + np.exp(-(evidence + prior)))
        for group, role in groups:
            chat, other = STAFF_LEANING if role in STAFF_ROLES else OTHERS_LEANING
            share = (posterior[group].sum() + chat) / (group.sum() + chat + other)
            prior[group] = math.log(share / (1.0 - share))
    return prior.astype(np.float32)


def chatter_evidence(
    views: Views,
    keywords: IntArray,
    members: BoolArray,
    *,
    reaction_keywords: int,
    alpha: float = 0.8,
    seed: int = 0,
) -> FloatArray:
    """Log odds of reaching each statement from the reactions rather than from members'
    fuller lines, by label spreading over the nearest-neighbour graph."""
    n = views.size
    reactions = keywords <= reaction_keywords
    members = members & ~reactions
    if n == 0 or not reactions.any() or not members.any():
        # Nothing to learn from: reactions are chatter, everything else is not.
        return np.where(reactions, _CLIP, -_CLIP).astype(np.float32)
    opinions = members & (keywords >= np.median(keywords[members]))
    # Chat is told apart by how it is said more than by the words it shares: the sentence
    # vectors alone when there are any, else words and characters.
    if views.embedding is not None:
        chat_views = replace(views, weights=CHAT_WEIGHTS)
    else:
        chat_views = replace(views, weights=(1.0, 1.0, 0.0))
    sample = graph_sample(n, seed)
    graph = knn_graph(chat_views.similarity(sample, sample), neighbour_count(len(sample)))
    tiny = 1e-6 / len(sample)
    to_chatter = spread(graph, reactions[sample].astype(np.float32), alpha)
    to_opinion = spread(graph, opinions[sample].astype(np.float32), alpha)
    odds = np.clip(np.log((to_chatter + tiny) / (to_opinion + tiny)), -_CLIP, _CLIP)
    if len(sample) == n:
        return odds.astype(np.float32)
    # Beyond the sample, a ridge regression of the odds on the same view carries them over in
    # linear time (nearest sample neighbours would cost every line a pass over the sample).
    features = _features(chat_views)
    model = Ridge(alpha=1.0).fit(features[sample], odds)
    out: FloatArray = np.clip(model.predict(features), -_CLIP, _CLIP).astype(np.float32)
    out[sample] = odds
    out[reactions] = np.maximum(out[reactions], _CLIP)
    return out


def _features(views: Views) -> sp.csr_matrix | FloatArray:
    if views.embedding is not None and views.weights[2] > 0:
        embedding: FloatArray = views.embedding
        return embedding
    return sp.hstack([views.words, views.chars]).tocsr()

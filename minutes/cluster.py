"""Themes from statements: a similarity of three views, a k-nearest-neighbour graph, spectral
clustering with the number of themes chosen by modularity, and near-duplicate folding.

Why three views: chat lines are short and say the same thing in other words, so words alone
(TF-IDF) miss synonyms, while a small sentence-embedding model blurs specifics; character
bigrams survive segmentation errors ("加梯" against "加装电梯"). Averaging the three cosines
is more robust than any one of them (see docs/minutes.md for the measurements).

Why a graph: k-means on raw vectors assumes round clusters of equal spread; opinions form
chains of paraphrases, which a k-nearest-neighbour graph follows. Spectral clustering of that
graph is the textbook method (von Luxburg 2007); modularity (Newman 2006) judges how well a
partition follows the graph and so picks the number of themes without a target count.

Scale: the graph is built on a fixed-size sample; everything else is linear or n log n in the
number of statements (centroid assignment, medoids through centroid sums, near duplicates
within cells of bounded size), so 100,000 statements never meet an n-by-n matrix.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.cluster.vq import kmeans2
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import spectral_embedding
from sklearn.preprocessing import normalize

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# Statements on which the graph is built; above this a random sample stands for the rest.
GRAPH_SAMPLE = 1500
# Near duplicates are searched within cells of at most this many statements.
DUPLICATE_CELL = 600
# Fewer statements than this form a single theme: a graph of a handful of points says nothing.
MIN_STATEMENTS_TO_CLUSTER = 8


@dataclass(frozen=True)
class Views:
    """Unit-length vectors of the same statements in up to three views, and how much each
    counts in their similarity (words, characters, sentence vectors)."""

    words: sp.csr_matrix
    chars: sp.csr_matrix
    embedding: FloatArray | None
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def size(self) -> int:
        """Number of statements."""
        return int(self.words.shape[0])

    def subset(self, rows: IntArray) -> Views:
        """The same views of some of the statements (rows in the order given)."""
        return Views(
            words=self.words[rows],
            chars=self.chars[rows],
            embedding=None if self.embedding is None else self.embedding[rows],
            weights=self.weights,
        )

    def similarity(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Weighted mean cosine over the views between two sets of statements (dense block)."""
        total = np.zeros((len(rows), len(cols)), dtype=np.float32)
        for weight, view in self._weighted():
            total += weight * _dense(view[rows] @ view[cols].T)
        return total

    def centrality(self, members: IntArray) -> FloatArray:
        """Mean similarity of each member to all members, in linear time through centroid sums."""
        total = np.zeros(len(members), dtype=np.float64)
        for weight, view in self._weighted():
            part = view[members]
            summed = np.asarray(part.sum(axis=0)).ravel()
            total += weight * np.asarray(part @ summed).ravel()
        return (total / max(len(members), 1)).astype(np.float32)

    def mean_similarity(self, rows: IntArray, members: IntArray) -> FloatArray:
        """Mean similarity of each row to the members of a group (through the members' sum)."""
        total = np.zeros(len(rows), dtype=np.float64)
        for weight, view in self._weighted():
            summed = np.asarray(view[members].sum(axis=0)).ravel()
            total += weight * np.asarray(view[rows] @ summed).ravel()
        return (total / max(len(members), 1)).astype(np.float32)

    def dense_for_cells(self, members: IntArray) -> FloatArray:
        """A dense vector per member, only to cut a large theme into cells."""
        if self.embedding is not None:
            return self.embedding[members]
        # Without embeddings, a random projection of the word view keeps cosines roughly.
        rng = np.random.default_rng(0)
        proj = rng.standard_normal((self.words.shape[1], 64)).astype(np.float32)
        dense: FloatArray = np.asarray(self.words[members] @ proj, dtype=np.float32)
        return dense

    def _weighted(self) -> list[tuple[float, sp.csr_matrix | FloatArray]]:
        """The views present, each with its share of the weight (the shares add up to 1)."""
        views: list[tuple[float, sp.csr_matrix | FloatArray]] = [
            (self.weights[0], self.words),
            (self.weights[1], self.chars),
        ]
        if self.embedding is not None:
            views.append((self.weights[2], self.embedding))
        total = sum(w for w, _ in views) or 1.0
        return [(w / total, v) for w, v in views if w > 0]


def _dense(matrix: Any) -> FloatArray:
    """A sparse or dense product as a dense float32 array."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float32)


_DIGITS = re.compile(r"\d+")


def _identity(words: list[str]) -> list[str]:
    return words


def build_views(
    texts: Sequence[str],
    words: Sequence[list[str]],
    vectors: FloatArray | None,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> Views:
    """Vectorize statements: word TF-IDF, character-bigram TF-IDF and centered embeddings."""
    word_vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float32)
    word_matrix = _fit_or_empty(word_vectorizer, list(words))
    char_vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=True, dtype=np.float32
    )
    # Without digits, as in the word view: "第12条" or "52万" would tie statements by their
    # numbers rather than by what they say. Punctuation stays: clause breaks carry a little.
    char_matrix = _fit_or_empty(char_vectorizer, [_DIGITS.sub(" ", t) for t in texts])
    embedding = None
    if vectors is not None and len(vectors):
        # Sentence models put every sentence in one narrow cone; removing the shared direction
        # (the topic everyone talks about) leaves what tells statements apart.
        centered = vectors - vectors.mean(axis=0, keepdims=True)
        embedding = normalize(centered).astype(np.float32)
    return Views(words=word_matrix, chars=char_matrix, embedding=embedding, weights=weights)


def _fit_or_empty(vectorizer: TfidfVectorizer, docs: list[object]) -> sp.csr_matrix:
    try:
        return sp.csr_matrix(vectorizer.fit_transform(docs), dtype=np.float32)
    except ValueError:  # every document empty: no vocabulary
        return sp.csr_matrix((len(docs), 1), dtype=np.float32)


def neighbour_count(n: int) -> int:
    """Neighbours per statement in the graph: about 2 ln n keeps it connected (von Luxburg)."""
    return max(4, min(30, round(2 * math.log(max(n, 2)))))


def knn_graph(similarity: FloatArray, k: int) -> sp.csr_matrix:
    """Symmetric k-nearest-neighbour graph weighted by (positive) similarity."""
    n = similarity.shape[0]
    k = min(k, n - 1)
    sim = similarity.copy()
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = nearest.ravel()
    weights = np.maximum(sim[rows, cols], 1e-4)
    graph = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))
    return graph.maximum(graph.T).tocsr()


def modularity(graph: sp.csr_matrix, labels: IntArray) -> float:
    """Newman's modularity of a partition of a weighted undirected graph."""
    k = int(labels.max()) + 1
    onehot = sp.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)))
    total = float(graph.sum())
    if total <= 0:
        return 0.0
    inside = (onehot.T @ graph @ onehot).diagonal()
    degree = np.asarray(onehot.T @ np.asarray(graph.sum(axis=1)).ravel()).ravel()
    return float(np.sum(inside / total - (degree / total) ** 2)) if k else 0.0


def spectral_themes(
    graph: sp.csr_matrix, max_themes: int, seed: int, restarts: int = 6
) -> tuple[IntArray, dict[int, float]]:
    """Themes of a graph: a consensus of spectral clusterings for every number of themes
    2..max_themes, cut at the number whose partition is the most modular.

    One k-means on the spectral embedding hangs on its k and its start: on the labelled
    consultations the adjusted Rand index of neighbouring k differed by up to 0.1 with no
    trend. How often two statements fall together over all k and `restarts` starts (evidence
    accumulation, Fred & Jain 2005) is steadier; average linkage of that co-association cuts
    it into nested partitions, and modularity (Newman 2006) picks the cut.
    """
    n = graph.shape[0]
    max_themes = max(2, min(max_themes, n - 1))
    together = np.zeros((n, n), dtype=np.float32)
    runs = 0
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        # A disconnected graph is fine here: its components simply fall into separate themes;
        # and a k-means run that leaves a cluster empty just yields fewer themes.
        warnings.simplefilter("ignore", UserWarning)
        coords = spectral_embedding(
            graph, n_components=max_themes, drop_first=False, random_state=seed
        )
        for _ in range(restarts):
            for k in range(2, max_themes + 1):
                points = normalize(coords[:, :k])
                # SciPy's k-means (k-means++ start, Lloyd steps): the same method as
                # scikit-learn's, without the per-call overhead that dominated 66 small runs.
                _, labels = kmeans2(points, k, iter=20, minit="++", seed=rng)
                together += labels[:, None] == labels[None, :]
                runs += 1
    apart = 1.0 - together / runs
    np.fill_diagonal(apart, 0.0)
    tree = linkage(squareform(apart, checks=False), method="average")
    best_labels = np.zeros(n, dtype=np.int64)
    best_score = -math.inf
    scores: dict[int, float] = {}
    for k in range(2, max_themes + 1):
        labels = _compact(fcluster(tree, k, criterion="maxclust").astype(np.int64))
        count = int(labels.max()) + 1
        if count in scores:
            continue
        scores[count] = modularity(graph, labels)
        if scores[count] > best_score:
            best_score, best_labels = scores[count], labels
    return best_labels, scores


def _compact(labels: IntArray) -> IntArray:
    _, compact = np.unique(labels, return_inverse=True)
    return compact.astype(np.int64)


def graph_sample(n: int, seed: int) -> IntArray:
    """The statements a graph is built on, in their original order: all, or a seeded sample."""
    if n <= GRAPH_SAMPLE:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, GRAPH_SAMPLE, replace=False)).astype(np.int64)


def threading(similarity: FloatArray) -> float:
    """How much more alike statements said one after the other are than any two, in standard
    deviations of all pairs' similarity, clipped to 0..1.

    A chat that follows one matter for a few lines before the next (a member answers the one
    before) shows it plainly; one where everyone posts on their own shows nothing, and then
    the order of the lines says nothing about their themes.
    """
    n = similarity.shape[0]
    if n < 3:
        return 0.0
    off = similarity[~np.eye(n, dtype=bool)]
    spread = float(off.std())
    if spread <= 0:
        return 0.0
    consecutive = float(np.mean(np.diagonal(similarity, 1)))
    return min(max((consecutive - float(off.mean())) / spread, 0.0), 1.0)


def with_thread_edges(graph: sp.csr_matrix, similarity: FloatArray, weight: float) -> sp.csr_matrix:
    """The graph with an edge between statements said one after the other, as strong as
    `weight` typical edges times how threaded the chat is (`threading`)."""
    n = graph.shape[0]
    strength = weight * threading(similarity)
    if strength <= 0 or n < 2 or graph.nnz == 0:
        return graph
    edge = strength * float(np.median(graph.data))
    chain = sp.diags(
        [np.full(n - 1, edge, dtype=np.float32)] * 2, [1, -1], shape=(n, n), format="csr"
    )
    return (graph + chain).tocsr()


def find_themes(
    views: Views, *, max_themes: int = 12, seed: int = 0, thread_weight: float = 0.0
) -> IntArray:
    """Cluster statements (given in chat order) into themes; their number comes from the data."""
    n = views.size
    if n < MIN_STATEMENTS_TO_CLUSTER:
        return np.zeros(n, dtype=np.int64)
    sample = graph_sample(n, seed)
    similarity = views.similarity(sample, sample)
    graph = knn_graph(similarity, neighbour_count(len(sample)))
    graph = with_thread_edges(graph, similarity, thread_weight)
    sample_labels, _ = spectral_themes(graph, max_themes, seed)
    if len(sample) == n:
        return sample_labels
    k = int(sample_labels.max()) + 1
    sample_views = views.subset(sample)
    # Centroids from the sample; every statement goes to the theme it resembles most.
    onehot = sp.csr_matrix(
        (np.ones(len(sample)), (sample_labels, np.arange(len(sample)))), shape=(k, len(sample))
    )
    total = np.zeros((n, k), dtype=np.float32)
    for (weight, part), (_, full) in zip(sample_views._weighted(), views._weighted(), strict=True):
        centroids = normalize(onehot @ part)
        total += weight * _dense(full @ centroids.T)
    labels = np.asarray(total.argmax(axis=1), dtype=np.int64)
    return _compact(labels)


def near_duplicates(
    views: Views, groups: Sequence[IntArray], *, quantile: float, seed: int = 0
) -> list[tuple[int, int]]:
    """Pairs of statements (global indices) that say the same thing, searched within each
    group (theme).

    Two statements are near duplicates when each is the other's most similar statement in
    their theme (mutual nearest neighbours) and their similarity reaches the `quantile`-th
    percentile of every statement's similarity to its nearest neighbour. Mutuality keeps a
    statement from being folded into a merely related one; the percentile keeps the loose
    pairs of a diffuse discussion apart. Within a theme, because a fold says "these make the
    same point", which two themes cannot share. Large themes are cut into cells of bounded
    size first (as approximate nearest-neighbour indexes do), so the cost stays n log n; the
    percentile is then taken over all cells.
    """
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    for members in groups:
        if len(members) < 2:
            continue
        for cell in _cells(views, members, seed):
            if len(cell) < 2:
                continue
            sim = views.similarity(cell, cell)
            np.fill_diagonal(sim, -np.inf)
            nearest = sim.argmax(axis=1)
            found.append((cell, nearest, sim[np.arange(len(cell)), nearest]))
    if not found:
        return []
    threshold = float(np.percentile(np.concatenate([b for _, _, b in found]), quantile))
    pairs: list[tuple[int, int]] = []
    for cell, nearest, best in found:
        for i, j in enumerate(nearest.tolist()):
            if i < j and nearest[j] == i and best[i] >= threshold:
                pairs.append((int(cell[i]), int(cell[j])))
    return pairs


def _cells(views: Views, members: IntArray, seed: int) -> list[IntArray]:
    """Cut members into cells of at most DUPLICATE_CELL by repeated median splits along the
    principal direction (PDDP, Boley 1998): balanced cells in O(n log n), deterministic.
    Near pairs that straddle a cut are missed; that is the price of never comparing all pairs.
    """
    if len(members) <= DUPLICATE_CELL:
        return [members]
    points = normalize(views.dense_for_cells(members))
    rng = np.random.default_rng(seed)
    cells: list[IntArray] = []
    stack = [np.arange(len(members))]
    while stack:
        part = stack.pop()
        if len(part) <= DUPLICATE_CELL:
            cells.append(members[part])
            continue
        centered = points[part] - points[part].mean(axis=0)
        direction = rng.standard_normal(points.shape[1]).astype(np.float32)
        for _ in range(6):  # power iteration: enough to find a spread-out direction
            direction = centered.T @ (centered @ direction)
            direction /= np.linalg.norm(direction) or 1.0
        order = np.argsort(centered @ direction, kind="stable")
        half = len(order) // 2
        stack.extend([part[order[:half]], part[order[half:]]])
    return cells

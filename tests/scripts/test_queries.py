"""The benchmark's workload: storefront queries that no cache has seen."""

from __future__ import annotations

import re

from kernel.schemas import CATEGORIES
from scripts.queries import WRITERS, storefront_queries


def test_the_same_seed_gives_the_same_distinct_queries() -> None:
    queries = storefront_queries(count=600, seed=3)
    assert len(queries) == len(set(queries)) == 600
    assert queries == storefront_queries(count=600, seed=3)
    assert storefront_queries(count=600, seed=4) != queries  # another seed, another workload


def test_queries_read_like_a_storefront_search_box() -> None:
    queries = storefront_queries(count=3000)
    assert len(queries) == 3000
    words = {query.split()[0] for query in queries}
    assert {"painel", "inversor", "microinversor", "bateria", "kit", "cabo", "estrutura"} <= words
    assert any(re.fullmatch(r"inversor \d+,\d+ kW .*", query) for query in queries)  # a decimal comma
    assert any(re.search(r"\b\d{3}W\b", query) for query in queries)  # module watts
    assert all(query == " ".join(query.split()) and len(query) <= 80 for query in queries)


def test_every_category_written_is_one_the_catalog_has() -> None:
    assert set(WRITERS) <= set(CATEGORIES)

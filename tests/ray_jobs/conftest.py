from __future__ import annotations

from pathlib import Path

import pytest

from samples.feeds import write_sample


@pytest.fixture(scope="session")
def small_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample (every format and defect class, a few hundred products), written once."""
    out = tmp_path_factory.mktemp("feeds")
    write_sample(out, seed=7, products=300)
    return out

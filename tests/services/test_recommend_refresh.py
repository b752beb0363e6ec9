"""The kit recommender's catalog refresh: built once at start, rebuilt only when the catalog moved."""

from __future__ import annotations

import time
from collections.abc import Callable

from kernel.schemas import Offer, Product
from services.recommend import KitRecommender


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_first_build_is_not_repeated_and_a_moved_catalog_is_rebuilt() -> None:
    loads: list[float] = []
    version = [1]

    def load_catalog() -> tuple[list[Product], list[Offer]]:
        loads.append(time.monotonic())
        return [], []

    recommender = KitRecommender(load_catalog=load_catalog, max_options=5)
    try:
        recommender.start_refreshing(0.01, version=lambda: version[0])
        assert len(loads) == 1  # built before it returns
        time.sleep(0.2)  # ≈20 checks of an unchanged catalog
        assert len(loads) == 1
        version[0] = 2
        wait_for(lambda: len(loads) == 2)
        time.sleep(0.1)
        assert len(loads) == 2
    finally:
        recommender.stop()


def test_a_version_unread_at_start_rebuilds_at_the_first_check() -> None:
    loads: list[float] = []
    answers = iter([RuntimeError("database away")])  # then 7 at every read

    def version() -> object:
        answer = next(answers, 7)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def load_catalog() -> tuple[list[Product], list[Offer]]:
        loads.append(time.monotonic())
        return [], []

    recommender = KitRecommender(load_catalog=load_catalog, max_options=5)
    try:
        recommender.start_refreshing(0.01, version=version)
        wait_for(lambda: len(loads) == 2)
        time.sleep(0.1)
        assert len(loads) == 2
    finally:
        recommender.stop()

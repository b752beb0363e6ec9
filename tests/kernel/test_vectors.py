"""The widening search: steps in order until enough hits, the fallback only when all found nothing."""

from __future__ import annotations

from collections.abc import Callable

from kernel.vectors import Hit, PayloadFilter, SearchRequest, WideningSearch, search_widening


def step(window: str) -> SearchRequest:
    return SearchRequest(limit=10, dense_name="d", dense=[1.0], filter=PayloadFilter(equals={"w": window}))


def index(found: dict[str, list[Hit]]) -> tuple[list[str], Callable[[SearchRequest], list[Hit]]]:
    asked: list[str] = []

    def search(request: SearchRequest) -> list[Hit]:
        window = str(request.filter.equals["w"])
        asked.append(window)
        return found.get(window, [])

    return asked, search


def hit(point: str, score: float) -> Hit:
    return Hit(point, score, {})


def test_stops_at_the_first_step_that_fills_the_page() -> None:
    asked, search = index({"10%": [hit("a", 0.9), hit("b", 0.8)], "20%": [hit("c", 0.7)]})
    widening = WideningSearch(steps=(step("10%"), step("20%"), step("30%")), enough=2)
    assert [h.id for h in search_widening(search, widening)] == ["a", "b"]
    assert asked == ["10%"]


def test_widens_and_keeps_the_narrowest_score_of_a_hit_found_twice() -> None:
    asked, search = index({"10%": [hit("a", 0.9)], "20%": [hit("a", 0.5), hit("c", 0.7)], "30%": []})
    widening = WideningSearch(steps=(step("10%"), step("20%"), step("30%")), enough=3)
    found = search_widening(search, widening)
    assert [(h.id, h.score) for h in found] == [("a", 0.9), ("c", 0.7)]
    assert asked == ["10%", "20%", "30%"]


def test_falls_back_only_when_every_step_found_nothing() -> None:
    asked, search = index({"asked": [hit("z", 0.4)]})
    widening = WideningSearch(steps=(step("10%"), step("20%")), enough=5, fallback=step("asked"))
    assert [h.id for h in search_widening(search, widening)] == ["z"]
    assert asked == ["10%", "20%", "asked"]
    asked, search = index({"10%": [hit("a", 0.9)], "asked": [hit("z", 0.4)]})
    assert [h.id for h in search_widening(search, widening)] == ["a"]
    assert asked == ["10%", "20%"]

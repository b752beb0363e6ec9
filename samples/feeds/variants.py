"""Products past the listed ones, so a catalog can have any size: variants of listed products (market.yaml's
`variants`), drawn round by round, and the identities handed out so far, so that no two products share one.

A variant moves a listed product to another power class: the specs named in `follow` scale with the power,
and its model code says the new power where it said the old one (`CS6K-300MS` → `CS6K-305MS`, `SUN-50K-G03`
→ `SUN-54K-G03`), else gets it appended. Then come new series of every listed product (`CS6K-300MS-V2`).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from itertools import count
from typing import Any

from catalog.identity import brand_key, model_key, normalize_model
from samples.feeds.market import PowerClasses, Range, SampleProduct, Variants

_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_STATED_IN_W = (1, 1000)  # a model code states its power in W (`SB3800`) or in kW (`SUN-5K`, `SG5.0RS`)


def at_power(specs: Mapping[str, Any], follow: Mapping[str, float], power_w: float) -> dict[str, Any]:
    """`specs` at another power: each spec in `follow` scales by the power ratio raised to its exponent."""
    ratio = power_w / specs["power_w"]
    moved = {**specs, "power_w": float(power_w)}
    for key, exponent in follow.items():
        if key in specs:
            moved[key] = round(specs[key] * ratio**exponent, 2)
    return moved


def _moved_model(
    model: str, power_w: float, classes: PowerClasses, offset: int, within: Range
) -> tuple[str, float] | None:
    """The model code and power `offset` classes away, None outside `within`. A code that states its power
    fixes the class step to what it can state: `SUN-50K` steps whole kW."""
    stated = next(
        (
            (match, w_per_unit)
            for match in _NUMBER.finditer(model)
            for w_per_unit in _STATED_IN_W
            if math.isclose(float(match.group()), power_w / w_per_unit)
        ),
        None,
    )
    unit, decimals = classes.unit, 0
    if stated is not None:
        decimals = len(stated[0].group().partition(".")[2])
        unit = max(unit, stated[1] / 10**decimals)
    new_w = power_w + offset * unit * max(1, round(power_w * classes.step / unit))
    if not within[0] <= new_w <= within[1]:
        return None
    if stated is None:
        return f"{model}-{new_w:g}W", new_w
    match, w_per_unit = stated
    width = len(match.group()) if match.group().startswith("0") else 0  # `ST030` → `ST036`
    return f"{model[: match.start()]}{new_w / w_per_unit:0{width}.{decimals}f}{model[match.end() :]}", new_w


def variant(
    rng: random.Random, variants: Variants, base: SampleProduct, series: int, offset: int, within: Range
) -> SampleProduct | None:
    """`base` moved `offset` power classes, in series `series` (0: the base's own); None if that class falls
    outside `within`."""
    model, specs, ratio = base.model, base.specs, 1.0
    if offset:
        classes = variants.power_classes[base.category]
        moved = _moved_model(model, specs["power_w"], classes, offset, within)
        if moved is None:
            return None
        model, power_w = moved
        ratio = power_w / specs["power_w"]
        specs = at_power(specs, classes.follow, power_w)
    if series:
        model += variants.series_code.format(n=series)
    jitter = variants.price_jitter
    price = round(base.reference_price * ratio * rng.uniform(1 - jitter, 1 + jitter), 2)
    return replace(base, model=normalize_model(model), specs=specs, reference_price=price)


def _rounds(variants: Variants, category: str) -> Iterator[tuple[int, int]]:
    """(series, class offset) of each round of variants: the classes around the listed power, then the new
    series, each at the listed class and those around it. Categories without power classes get series only."""
    side = variants.classes_each_side if category in variants.power_classes else 0
    offsets = [offset for step in range(1, side + 1) for offset in (step, -step)]
    yield from ((0, offset) for offset in offsets)
    for series in count(2):
        yield from ((series, offset) for offset in (0, *offsets))


class Identities:
    """The identity keys (catalog.identity's brand and model keys) handed out, as 8-byte digests: a catalog of
    a million products keeps ~60 MB here instead of every key's text."""

    def __init__(self) -> None:
        self._taken: set[int] = set()

    def claim(self, product: SampleProduct) -> bool:
        """True, and the identity is taken, if no product holds it yet."""
        key = f"{brand_key(product.brand)}|{model_key(product.model)}".encode()
        digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
        if digest in self._taken:
            return False
        self._taken.add(digest)
        return True


class CategoryStream:
    """Products of one category in sample order: the listed ones (claimed already), then rounds of variants,
    whose power stays within the listed products' (today's modules stay 540-720 W, microinverters micro)."""

    def __init__(
        self,
        rng: random.Random,
        variants: Variants,
        listed: list[SampleProduct],
        claim: Callable[[SampleProduct], bool],
    ) -> None:
        self._rng, self._variants, self._listed, self._claim = rng, variants, listed, claim
        self._rounds = _rounds(variants, listed[0].category) if listed else iter(())
        powers = [item.specs["power_w"] for item in listed if "power_w" in item.specs]
        self._within = (min(powers), max(powers)) if powers else (0.0, 0.0)
        self._round: tuple[int, int] | None = None  # None while the listed products are taken
        self._next = 0

    def take(self, wanted: int) -> list[SampleProduct]:
        """The next `wanted` products (none when nothing is listed)."""
        taken: list[SampleProduct] = []
        while len(taken) < wanted and self._listed:
            if self._next == len(self._listed):
                self._next, self._round = 0, next(self._rounds)
            base = self._listed[self._next]
            self._next += 1
            if self._round is None:
                taken.append(base)
                continue
            made = variant(self._rng, self._variants, base, *self._round, self._within)
            if made is not None and self._claim(made):
                taken.append(made)
        return taken

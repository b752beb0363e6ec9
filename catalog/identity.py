"""Who makes it and what it is: one normalised brand + model per physical product, whatever the feed wrote.

`Canadian Solar` / `CANADIAN SOLAR INC.` / `Canadian Solar Inc.` are one brand; `CS6W-550MS` / `cs6w 550ms` /
`CS6W - 550MS` are one model. `product_id` turns the pair into a stable uuid5, the catalog's product key.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping

from kernel.text import strip_accents

# Fixed forever: changing it would give every product a new id.
PRODUCT_NAMESPACE = uuid.UUID("6f1d7c1e-52b4-4a51-9a39-2a0c3e6b9d11")

# Legal-form words say nothing about the brand; they are dropped from the end of a brand name.
_LEGAL_SUFFIXES = (
    "inc incorporated ltd ltda limited co corp corporation company llc gmbh ag sa bv kg spa srl plc eireli me"
)
_TRAILING_LEGAL = re.compile(rf"(?:\s+(?:{'|'.join(_LEGAL_SUFFIXES.split())}|s a))+$")
_PARENTHESISED = re.compile(r"\([^)]*\)")
_DELETED_MARKS = re.compile(r"[.'’/]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_MODEL_SEPARATORS = re.compile(r"[\s_\-‐‑‒–—―]+")


def brand_key(raw: str) -> str:
    """Matching key of a brand: accents, case, punctuation, factory locations `(Qidong)` and legal suffixes
    (`Inc.`, `Co., Ltd.`, `Ltda`) removed. `Canadian Solar Inc.` → `canadian solar`."""
    text = strip_accents(raw).casefold()
    text = _DELETED_MARKS.sub("", _PARENTHESISED.sub(" ", text))
    text = _NOT_ALNUM.sub(" ", text).strip()
    return _TRAILING_LEGAL.sub("", " " + text).strip() or text


def brand_alias_index(brands: Mapping[str, list[str]]) -> dict[str, str]:
    """{canonical brand: [other names]} → {brand key of every name: canonical brand}."""
    index: dict[str, str] = {}
    for canonical, aliases in brands.items():
        for name in (canonical, *aliases):
            key = brand_key(name)
            if index.setdefault(key, canonical) != canonical:
                raise ValueError(f"brand name {name!r} is listed under both {index[key]!r} and {canonical!r}")
    return index


def normalize_brand(raw: str, aliases: Mapping[str, str]) -> str:
    """The brand's display name: the canonical name when `aliases` (from `brand_alias_index`) knows it,
    otherwise a spelling derived from its key alone, so every variant of an unknown brand agrees."""
    key = brand_key(raw)
    if key in aliases:
        return aliases[key]
    return " ".join(word.upper() if len(word) <= 3 else word.capitalize() for word in key.split())


def normalize_model(raw: str) -> str:
    """Upper case, accents folded, each run of spaces/underscores/dashes → one hyphen.

    `cs6w 550ms` → `CS6W-550MS`."""
    text = (raw if raw.isascii() else strip_accents(unicodedata.normalize("NFKC", raw))).upper()
    return _MODEL_SEPARATORS.sub("-", text).strip("-")


def model_key(raw: str) -> str:
    """Matching key of a model: its normal form without hyphens, so `CS6W550MS` matches `CS6W-550MS`."""
    return normalize_model(raw).replace("-", "")


def product_id(brand: str, model: str) -> str:
    """Stable product id: uuid5 of the normalised brand and model (pass the normalised brand: aliases are
    resolved by `normalize_brand`, not here)."""
    return str(uuid.uuid5(PRODUCT_NAMESPACE, f"{brand_key(brand)}|{model_key(model)}"))

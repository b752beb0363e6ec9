"""Brand and model normalisation, and the product id built from them."""

from __future__ import annotations

import uuid

import pytest

from catalog.identity import (
    brand_alias_index,
    brand_key,
    model_key,
    normalize_brand,
    normalize_model,
    product_id,
)

ALIASES = brand_alias_index(
    {
        "Canadian Solar": ["CSI Solar"],
        "Q CELLS": ["Hanwha Q CELLS"],
        "Solis": ["Ningbo Ginlong Technologies", "Ginlong"],
        "Stäubli": ["Multi-Contact"],
        "LONGi": ["LONGi Green Energy Technology"],
    }
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Canadian Solar Inc.", "canadian solar"),
        ("CANADIAN SOLAR INC", "canadian solar"),
        ("Jinko Solar Co._ Ltd", "jinko solar"),
        ("Trina Solar Co., Ltd.", "trina solar"),
        ("Hanwha Q CELLS (Qidong)", "hanwha q cells"),
        ("WEG S.A.", "weg"),
        ("Ingeteam Power Technology S A", "ingeteam power technology"),
        ("Indústria Brasileira Ltda.", "industria brasileira"),
        ("Yes! Solar", "yes solar"),
        ("Co.", "co"),  # a name made only of a legal form keeps it
    ],
)
def test_brand_key(raw: str, expected: str) -> None:
    assert brand_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Canadian Solar", "Canadian Solar"),
        ("CANADIAN SOLAR INC.", "Canadian Solar"),
        ("canadian solar", "Canadian Solar"),
        ("CSI Solar", "Canadian Solar"),
        ("Hanwha Q CELLS (Qidong)", "Q CELLS"),
        ("Ningbo Ginlong Technologies Co - Ltd ", "Solis"),
        ("STAUBLI", "Stäubli"),
        ("Multi-Contact AG", "Stäubli"),
        ("LONGi Green Energy Technology Co._ Ltd.", "LONGi"),
        # Unknown brands get a spelling derived from their key, so every variant agrees.
        ("ACME ENERGIA LTDA", "Acme Energia"),
        ("Acme Energia", "Acme Energia"),
        ("abb", "ABB"),
    ],
)
def test_normalize_brand(raw: str, expected: str) -> None:
    assert normalize_brand(raw, ALIASES) == expected


def test_an_alias_listed_under_two_brands_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        brand_alias_index({"Solis": ["Ginlong"], "Ginlong Solis": ["GINLONG"]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CS6W-550MS", "CS6W-550MS"),
        ("cs6w 550ms", "CS6W-550MS"),
        ("CS6W - 550MS", "CS6W-550MS"),
        ("CS6W_550MS", "CS6W-550MS"),
        ("CS6W–550MS", "CS6W-550MS"),  # en dash
        ("ＣＳ６Ｗ-550MS", "CS6W-550MS"),  # full-width letters
        ("  SB6.0-1SP-US-40 ", "SB6.0-1SP-US-40"),
        ("PS255M-20/U", "PS255M-20/U"),
        ("Módulo X", "MODULO-X"),
        ("--", ""),
    ],
)
def test_normalize_model(raw: str, expected: str) -> None:
    assert normalize_model(raw) == expected


def test_model_key_ignores_hyphens_only() -> None:
    assert model_key("CS6W550MS") == model_key("cs6w - 550ms") == "CS6W550MS"
    assert model_key("SB6.0-1SP") != model_key("SB60-1SP")


def test_product_id_is_one_uuid5_per_normalised_brand_and_model() -> None:
    first = product_id("Canadian Solar", "CS6W-550MS")
    assert uuid.UUID(first).version == 5
    assert product_id("CANADIAN SOLAR INC.", "cs6w 550ms") == first
    assert product_id("Canadian Solar", "CS6W550MS") == first
    assert product_id("Canadian Solar", "CS6W-545MS") != first
    assert product_id("Jinko Solar", "CS6W-550MS") != first


def test_product_ids_never_change() -> None:
    # Stored catalogs key products by this id: a change here re-creates every product.
    assert product_id("Canadian Solar", "CS6W-550MS") == str(
        uuid.uuid5(uuid.UUID("6f1d7c1e-52b4-4a51-9a39-2a0c3e6b9d11"), "canadian solar|CS6W550MS")
    )

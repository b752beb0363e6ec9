"""Folding and shortening text."""

from __future__ import annotations

import pytest

from kernel.text import fold
from rag.text import shorten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Preço  DELE? ", "preco dele?"),
        ("Homologação\nna Distribuidora", "homologacao na distribuidora"),
        ("AÇÃO ÇÃO ü", "acao cao u"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("curto", 10, "curto"),
        ("exatamente", 10, "exatamente"),
        ("a energia compensada paga o Fio B", 24, "a energia compensada…"),  # cut at a word
        ("a energia compensada", 19, "a energia compensa…"),  # no space past half: cut in the word
        ("abc def", 1, "…"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit

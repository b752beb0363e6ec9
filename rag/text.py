"""Folded text for matching what people write: accents, case and spacing never decide a match."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """`  Preço  DELE? ` → `preco dele?`: accents and case dropped, runs of spaces collapsed."""
    plain = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


def shorten(text: str, limit: int) -> str:
    """The text, or its first words up to `limit` characters (at least 1) ending in "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + "…"

"""The one text folding: what people, feeds and documents write is compared with accents, case and spacing
dropped. Product identity keys keep case and spacing (they upper-case and split on their own separators),
so they take `strip_accents` alone."""

from __future__ import annotations

import unicodedata


def strip_accents(text: str) -> str:
    """`Módulo Monofásico` → `Modulo Monofasico`; compatibility forms decomposed too (`mm²` → `mm2`)."""
    if text.isascii():  # most of a catalog: skip the normalisation
        return text
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def fold(text: str) -> str:
    """`  Preço  DELE? ` → `preco dele?`: accents and case dropped, runs of spaces collapsed."""
    return " ".join(strip_accents(text).casefold().split())

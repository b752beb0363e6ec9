"""Text keys for matching what people and feeds write: accents, case and spacing never decide a match."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """`  São  PAULO ` → `sao paulo`: accents dropped, case folded, runs of spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", plain.casefold()).strip()


def alnum_key(text: str) -> str:
    """`CS6W - 550MS` → `cs6w550ms`: only letters and digits, so punctuation variants of a code agree."""
    return _NOT_ALNUM.sub("", fold(text))

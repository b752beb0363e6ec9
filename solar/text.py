"""Text keys for matching codes as people and feeds write them (folding itself is `kernel.text.fold`)."""

from __future__ import annotations

import re

from kernel.text import fold

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def alnum_key(text: str) -> str:
    """`CS6W - 550MS` → `cs6w550ms`: only letters and digits, so punctuation variants of a code agree."""
    return _NOT_ALNUM.sub("", fold(text))

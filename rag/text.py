"""Text shown to people: passages and answers cut to a length at a word."""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """The text, or its first words up to `limit` characters (at least 1) ending in "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + "…"

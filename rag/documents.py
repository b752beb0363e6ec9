"""Knowledge-base documents: the bytes of one file → a `Document` (title, sections) or a `Rejection`.

Pure: no I/O beyond the bytes given. Markdown (`#` headings), HTML (h1–h6 become sections, `<title>` is
the title; script, style, nav and the like are dropped), plain text and PDF (pypdf; pages joined).
Text formats must be valid UTF-8 (a BOM is allowed). Plain text and PDF have no markup, so a short
line standing alone between blank lines is read as a heading.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Literal

import pypdf

from kernel.schemas import DOCUMENT_COLLECTIONS

RejectReason = Literal["unsupported_extension", "empty_file", "bad_encoding", "unreadable_pdf", "no_text"]
Format = Literal["markdown", "html", "text", "pdf"]
FORMATS: dict[str, Format] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".pdf": "pdf",
}
MAX_HEADING_CHARS = 80  # a longer standalone line in plain text / PDF is a paragraph, not a heading


@dataclass(frozen=True)
class Section:
    heading: tuple[str, ...]  # the heading path: ("Lei 14.300", "Fio B") ; () before the first heading
    text: str


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the corpus root
    title: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Rejection:
    source: str
    reason: RejectReason
    detail: str


def corpus_collection(path: str) -> str | None:
    """The collection a corpus file feeds: its first folder names it ("regulatory/x.md" → helio-regulatory).
    Files at the root (README.md), in other folders, or hidden (".DS_Store") feed none."""
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or any(part.startswith(".") for part in parts):
        return None
    collection = f"helio-{parts[0]}"
    return collection if collection in DOCUMENT_COLLECTIONS else None


def parse_document(source: str, data: bytes) -> Document | Rejection:
    """One file → its document, or why it cannot be one."""
    fmt = FORMATS.get(PurePosixPath(source).suffix.lower())
    if fmt is None:
        return Rejection(source, "unsupported_extension", f"no reader for {PurePosixPath(source).suffix!r}")
    if not data.strip():
        return Rejection(source, "empty_file", f"{len(data)} bytes, no content")
    if fmt == "pdf":
        return _pdf(source, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Rejection(source, "bad_encoding", f"not valid UTF-8 at byte {error.start}")
    if "\x00" in text:
        return Rejection(source, "bad_encoding", "binary content (NUL bytes) in a text file")
    if fmt == "text" and any(_ATX_HEADING.match(line) for line in text.splitlines()):
        fmt = "markdown"  # plain text written with Markdown headings reads best as Markdown
    title, sections = {"markdown": _markdown, "html": _html, "text": _plain}[fmt](text)
    return _document(source, title, sections)


def _document(source: str, title: str | None, sections: list[Section]) -> Document | Rejection:
    kept = tuple(s for s in sections if s.text.strip())
    if not kept:
        return Rejection(source, "no_text", "no text to index")
    return Document(source=source, title=title or _title_from_name(source), sections=kept)


def _title_from_name(source: str) -> str:
    return re.sub(r"[-_]+", " ", PurePosixPath(source).stem).strip().capitalize()


class _Outline:
    """Collects text under a heading path that headings of each level push and pop."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self._path = [(lvl, t) for lvl, t in self._path if lvl < level] + [(level, text)]

    def line(self, text: str) -> None:
        self._lines.append(text)

    def flush(self) -> None:
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(self._lines)).strip()
        if text:
            self.sections.append(Section(tuple(t for _, t in self._path), text))
        self._lines = []


_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _markdown(text: str) -> tuple[str | None, list[Section]]:
    outline, title, in_fence = _Outline(), None, False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _ATX_HEADING.match(line)
        if match:
            level, heading = len(match[1]), match[2].strip()
            if level == 1 and title is None:
                title = heading
            outline.heading(level, heading)
        else:
            outline.line(line.rstrip())
    outline.flush()
    return title, outline.sections


_SKIPPED_TAGS = frozenset({"script", "style", "nav", "noscript", "template", "svg"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote", "pre", "hr"}
    | {"dd", "dt", "dl", "header", "footer", "main", "aside", "figure", "figcaption", "td", "th"}
)
_HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = _Outline()
        self.title: str | None = None
        self.first_h1: str | None = None
        self._skipping: list[str] = []  # open skipped tags (nested)
        self._in_title = False
        self._title_parts: list[str] = []
        self._heading: tuple[int, list[str]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
            self._title_parts = []
        elif tag in _SKIPPED_TAGS:
            self._skipping.append(tag)
        elif self._skipping:
            return
        elif tag in _HEADING_TAGS:
            self._end_line()
            self._heading = (_HEADING_TAGS[tag], [])
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = _squash(" ".join(self._title_parts)) or None
        elif tag in _SKIPPED_TAGS and tag in self._skipping:
            while self._skipping and self._skipping.pop() != tag:
                pass
        elif self._skipping:
            return
        elif tag in _HEADING_TAGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            if heading := _squash(" ".join(parts)):
                if level == 1 and self.first_h1 is None:
                    self.first_h1 = heading
                self.outline.heading(level, heading)
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)
        elif self._skipping:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._text.append(data)

    def _end_line(self) -> None:
        if line := _squash("".join(self._text)):
            self.outline.line(line)
            self.outline.line("")
        self._text = []

    def finish(self) -> tuple[str | None, list[Section]]:
        self.close()
        self._end_line()
        self.outline.flush()
        return self.title or self.first_h1, self.outline.sections


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _html(text: str) -> tuple[str | None, list[Section]]:
    parser = _HtmlText()
    parser.feed(text)
    return parser.finish()


def _looks_like_heading(paragraph: str) -> bool:
    return (
        "\n" not in paragraph
        and len(paragraph) <= MAX_HEADING_CHARS
        and not paragraph.endswith((".", ",", ";", ":", "!", "?"))
        and (paragraph[:1].isupper() or paragraph[:1].isdigit())
    )


def _plain(text: str) -> tuple[str | None, list[Section]]:
    """The first line is the title (when short); a short standalone line is a (flat) heading."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    if not paragraphs:
        return None, []
    first_line, _, rest = paragraphs[0].partition("\n")
    title = _squash(first_line) if len(first_line) <= 200 else None
    if title is not None:
        paragraphs = [rest.strip(), *paragraphs[1:]] if rest.strip() else paragraphs[1:]
    outline = _Outline()
    for paragraph in paragraphs:
        if _looks_like_heading(paragraph):
            outline.heading(1, paragraph)
        else:
            outline.line(paragraph)
            outline.line("")
    outline.flush()
    return title, outline.sections


def _pdf(source: str, data: bytes) -> Document | Rejection:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return Rejection(source, "unreadable_pdf", "encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or None
    except Exception as error:  # pypdf raises many types on corrupt files; any of them means unreadable
        return Rejection(source, "unreadable_pdf", f"{type(error).__name__}: {error}"[:500])
    lines = [line.strip() for page in pages for line in page.splitlines() if line.strip()]
    if not lines:
        return Rejection(source, "no_text", f"{len(pages)} page(s), no extractable text (scanned?)")
    title = _squash(metadata_title or "")
    taken = 0  # the title as printed on the first line(s), wrapped or not, is not body text
    while taken < len(lines) and title and title.startswith(_squash(" ".join(lines[: taken + 1]))):
        taken += 1
    if not title:
        title, taken = lines[0], 1
    return _document(source, title, _pdf_sections(lines[taken:]))


def _pdf_sections(lines: list[str]) -> list[Section]:
    """Extracted PDF text has no blank lines: a heading is a short line that looks like one and
    follows the end of a sentence (so the tail of a wrapped sentence is not taken for one)."""
    outline, previous = _Outline(), ""
    for line in lines:
        if _looks_like_heading(line) and (not previous or previous.endswith((".", ":", "!", "?"))):
            outline.heading(1, line)
        else:
            outline.line(line)
        previous = line
    outline.flush()
    return outline.sections

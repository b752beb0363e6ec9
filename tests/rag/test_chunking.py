"""Chunking: overlapping windows inside each section, stable ids, and the incremental plan."""

from __future__ import annotations

import pydantic
import pytest

from rag.analysis import ANALYZER_VERSION
from rag.chunking import Chunk, ChunkingConfig, chunk_document, embedded_text, plan_sync, windows
from rag.documents import Document, Section


@pytest.mark.parametrize(
    ("words", "size", "overlap", "expected"),
    [
        (0, 10, 2, []),
        (5, 10, 2, [(0, 5)]),
        (10, 10, 2, [(0, 10)]),
        (11, 10, 2, [(0, 10), (1, 11)]),  # the last window ends at the end: overlaps more, no stub
        (18, 10, 2, [(0, 10), (8, 18)]),
        (20, 10, 2, [(0, 10), (8, 18), (10, 20)]),
        (26, 10, 2, [(0, 10), (8, 18), (16, 26)]),
        (25, 10, 0, [(0, 10), (10, 20), (15, 25)]),
    ],
)
def test_windows(words: int, size: int, overlap: int, expected: list[tuple[int, int]]) -> None:
    assert windows(words, size, overlap) == expected


def numbered(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(count))


def doc(*sections: Section, title: str = "Manual") -> Document:
    return Document(source="technical/manual.md", title=title, sections=sections)


CONFIG = ChunkingConfig(chunk_words=10, overlap_words=3)


def test_consecutive_chunks_of_a_long_section_overlap_by_the_configured_words() -> None:
    chunks = chunk_document(doc(Section(("Manual", "Instalação"), numbered("w", 24))), CONFIG)
    words = [c.text.split() for c in chunks]
    assert [len(w) for w in words] == [10, 10, 10]
    assert words[0][-3:] == words[1][:3]
    assert words[-1][-1] == "w23"
    assert {w for ws in words for w in ws} == {f"w{i}" for i in range(24)}  # nothing lost
    assert [c.position for c in chunks] == [0, 1, 2]


def test_a_chunk_never_crosses_a_heading() -> None:
    document = doc(Section(("Manual", "A"), numbered("a", 4)), Section(("Manual", "B"), numbered("b", 12)))
    chunks = chunk_document(document, CONFIG)
    assert [(c.section, c.text.split()[0][0]) for c in chunks] == [
        (("Manual", "A"), "a"),
        (("Manual", "B"), "b"),
        (("Manual", "B"), "b"),
    ]
    assert all(len({w[0] for w in c.text.split()}) == 1 for c in chunks)


def test_chunk_text_keeps_line_breaks_and_the_embedded_text_says_where_it_is() -> None:
    chunk = chunk_document(doc(Section(("Manual", "Cabos"), "Use cabo 6 mm².\n- vermelho: +")), CONFIG)[0]
    assert chunk.text == "Use cabo 6 mm².\n- vermelho: +"
    assert chunk.embedded_text == "Manual › Cabos\n\nUse cabo 6 mm².\n- vermelho: +"  # the title h1 not twice
    assert embedded_text("Guia", (), "x") == "Guia\n\nx"
    assert chunk.payload()["section"] == ["Manual", "Cabos"]


def test_ids_are_stable_and_follow_content_title_and_collection() -> None:
    section = Section(("Manual",), numbered("w", 8))
    first = chunk_document(doc(section), CONFIG)[0]
    assert first.point_id("helio-technical") == chunk_document(doc(section), CONFIG)[0].point_id(
        "helio-technical"
    )
    assert first.point_id("helio-technical") != first.point_id("helio-sales")
    retitled = chunk_document(doc(section, title="Guia"), CONFIG)[0]
    assert retitled.content_hash != first.content_hash  # the title is in what is embedded


def test_overlap_must_be_smaller_than_the_chunk() -> None:
    with pytest.raises(pydantic.ValidationError):
        ChunkingConfig(chunk_words=10, overlap_words=10)


def chunk(source: str, position: int, text: str) -> Chunk:
    return Chunk(source, "T", (), position, text, f"h-{text}")


def state(
    source: str, models: tuple[str, ...] = ("minilm-l6",), lexical: str = ANALYZER_VERSION
) -> dict[str, object]:
    return {"source": source, "embedded_with": list(models), "lexical": lexical}


def test_plan_embeds_only_new_chunks_and_removes_what_left() -> None:
    kept, edited_old, edited_new = chunk("a.md", 0, "x"), chunk("a.md", 1, "old"), chunk("a.md", 1, "new")
    gone, fresh = chunk("b.md", 0, "b"), chunk("c.md", 0, "c")
    stored = {c.point_id("k"): state(c.source) for c in (kept, edited_old, gone)}
    plan = plan_sync("k", [kept, edited_new, fresh], stored, ["minilm-l6"])
    assert [c for _, c in plan.to_embed] == [edited_new, fresh]
    assert plan.to_delete == sorted([edited_old.point_id("k"), gone.point_id("k")])
    assert plan.counts() == {"added": 1, "updated": 1, "unchanged": 1, "removed": 2}


def test_plan_re_embeds_points_missing_a_configured_model_and_keeps_rejected_sources() -> None:
    old, broken = chunk("a.md", 0, "x"), chunk("broken.pdf", 0, "y")
    stored = {old.point_id("k"): state("a.md"), broken.point_id("k"): state("broken.pdf")}
    plan = plan_sync("k", [old], stored, ["minilm-l6", "openai-3-small"], keep_sources={"broken.pdf"})
    assert [point_id for point_id, _ in plan.to_embed] == [old.point_id("k")]
    assert (plan.updated, plan.to_delete) == (1, [])


def test_a_second_identical_plan_does_nothing() -> None:
    chunks = chunk_document(doc(Section(("Manual",), numbered("w", 30))), CONFIG)
    stored = {c.point_id("k"): state(c.source) for c in chunks}
    plan = plan_sync("k", chunks, stored, ["minilm-l6"])
    assert (plan.to_embed, plan.to_delete, plan.unchanged) == ([], [], len(chunks))


def test_a_new_lexical_analysis_reindexes_the_chunks_it_did_not_analyse() -> None:
    current, older = chunk("a.md", 0, "x"), chunk("a.md", 1, "y")
    stored = {current.point_id("k"): state("a.md"), older.point_id("k"): state("a.md", lexical="pt-old")}
    plan = plan_sync("k", [current, older], stored, ["minilm-l6"])
    assert [c for _, c in plan.to_embed] == [older]
    assert (plan.updated, plan.unchanged) == (1, 1)

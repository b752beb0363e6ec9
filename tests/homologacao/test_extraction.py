"""Fields read from documents: by patterns, with evidence; then by an LLM for the rest, kept only when the
snippet it quotes is in the document. The LLM is OpenAI's chat API, played by the local stand-in
(`tests/openai_chat_stand_in.py`: the real service cannot run here), through `models/openai_engine.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from homologacao.check import check_package
from homologacao.documents import Document, classified
from homologacao.extraction import extract_fields
from homologacao.llm_extraction import extract_with_llm
from models.openai_engine import OpenAICompatibleConfig, OpenAICompatibleEngine
from samples.homologacao_cases import default_system
from tests.homologacao.conftest import CONFIG, text_package
from tests.openai_chat_stand_in import ChatStandIn, running_chat_stand_in

MEMORIAL = classified(
    "memorial.pdf",
    (
        "Memorial descritivo\nUnidade consumidora nº: 300.123.456-7\nPotência instalada: 1.234,5 kWp\n",
        "Equipamentos\nQuantidade de módulos: 2245\nInversor: SMA Sunny Tripower CORE1 50\n"
        "ART nº MG-2026/0012345\nRegistro Inmetro nº 012345 / 2022\n",
    ),
)


def test_patterns_read_each_field_with_its_page_and_snippet() -> None:
    found = {item.field: item for item in extract_fields([MEMORIAL])}
    expected = {
        "consumer_unit": ("3001234567", 1),
        "kwp": (1234.5, 1),
        "module_count": (2245, 2),
        "inverter_model": ("SMA Sunny Tripower CORE1 50", 2),
        "art_number": ("MG20260012345", 2),
        "inmetro_registration": ("012345/2022", 2),
    }
    assert {name: (item.value, item.evidence.page) for name, item in found.items()} == expected
    for item in found.values():
        assert item.method == "pattern"
        assert item.evidence.document == "memorial.pdf"
        assert item.evidence.snippet in " ".join(MEMORIAL.pages[item.evidence.page - 1].split())


def test_every_document_that_states_a_field_is_kept() -> None:
    documents = text_package().documents
    kwp = [item for item in extract_fields(documents) if item.field == "kwp"]
    assert {item.evidence.document for item in kwp} == {
        "formulario_solicitacao.pdf", "art.pdf", "diagrama_unifilar.pdf", "memorial_descritivo.pdf"
    }  # fmt: skip
    [value] = {item.value for item in kwp}
    assert value == pytest.approx(default_system().kwp, abs=0.005)  # the documents write two decimals


# ---------------------------------------------------------------- with an LLM (the OpenAI stand-in)

BARE = Document(
    "memorial.txt", ("Memorial descritivo\nO sistema tem potencia de pico igual a 6,6 quilowatts.",)
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def stand_in() -> Iterator[ChatStandIn]:
    with running_chat_stand_in() as running:
        yield running


@pytest.fixture
async def engine(stand_in: ChatStandIn) -> AsyncIterator[OpenAICompatibleEngine]:
    config = OpenAICompatibleConfig(base_url=stand_in.base_url, model="stand-in", max_retries=0, timeout_s=5)
    engine = OpenAICompatibleEngine(config)
    yield engine
    await engine.aclose()


def _answer(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


@pytest.mark.anyio
async def test_llm_fills_a_missing_field_with_grounded_evidence(
    stand_in: ChatStandIn, engine: OpenAICompatibleEngine
) -> None:
    stand_in.reply(
        _answer(
            kwp={
                "valor": "6,6",
                "documento": "memorial.txt",
                "pagina": 1,
                "trecho": "potencia de pico igual a 6,6 quilowatts",
            }
        )
    )
    result = await extract_with_llm(engine, [BARE], ["kwp"])
    [found] = result.found
    assert (found.field, found.value, found.method) == ("kwp", 6.6, "llm")
    assert found.evidence.document == "memorial.txt" and found.evidence.page == 1
    assert result.rejected == [] and result.engine == "openai:stand-in"
    prompt = stand_in.requests[-1].body["messages"][-1]["content"]
    assert "potencia de pico" in prompt and '"kwp"' in prompt


def _proposal(value: str, snippet: str | None, document: str = "memorial.txt") -> dict[str, object]:
    proposal: dict[str, object] = {"valor": value, "documento": document, "pagina": 1}
    return proposal | ({"trecho": snippet} if snippet is not None else {})


@pytest.mark.parametrize(
    ("proposal", "reason"),
    [
        (_proposal("8,2", "potência de 8,2 kWp"), "snippet not found"),
        (_proposal("8,2", "igual a 6,6 quilowatts"), "not in its snippet"),
        (_proposal("6,6", "igual a 6,6", document="outro.pdf"), "unknown document"),
        (_proposal("6,6", None), "no value or no snippet"),
    ],
)
@pytest.mark.anyio
async def test_llm_values_without_evidence_in_the_document_are_rejected(
    stand_in: ChatStandIn, engine: OpenAICompatibleEngine, proposal: dict[str, object], reason: str
) -> None:
    stand_in.reply(_answer(kwp=proposal))
    result = await extract_with_llm(engine, [BARE], ["kwp"])
    assert result.found == []
    assert len(result.rejected) == 1 and reason in result.rejected[0]


@pytest.mark.anyio
async def test_an_answer_that_is_not_json_leaves_the_fields_missing(
    stand_in: ChatStandIn, engine: OpenAICompatibleEngine
) -> None:
    stand_in.reply("Não sei.")
    result = await extract_with_llm(engine, [BARE], ["kwp"])
    assert result.found == [] and result.error == "the answer is not a JSON object"


@pytest.mark.anyio
async def test_an_engine_down_leaves_the_patterns_alone(
    stand_in: ChatStandIn, engine: OpenAICompatibleEngine
) -> None:
    stand_in.fail(500)
    package = text_package(replace(default_system(), omit=("art",)))
    result = await check_package(package.case, package.documents, [], package.catalog, CONFIG, engine)
    assert "art_number" not in result.extracted
    assert result.notes and "LLM extraction skipped" in result.notes[0] and "500" in result.notes[0]
    assert result.extracted["kwp"]  # the patterns' values stand


@pytest.mark.anyio
async def test_check_with_llm_fills_what_the_patterns_missed(
    stand_in: ChatStandIn, engine: OpenAICompatibleEngine
) -> None:
    package = text_package()
    art = classified("art.txt", ("Anotação de Responsabilidade Técnica\nRegistro da obra: CE-555/2026-77",))
    others = [document for document in package.documents if document.kind != "art"]
    stand_in.reply(
        _answer(
            art_number=_proposal("CE-555/2026-77", "Registro da obra: CE-555/2026-77", document="art.txt")
        )
    )
    result = await check_package(package.case, [*others, art], [], package.catalog, CONFIG, engine)
    [found] = result.extracted["art_number"]
    assert (found.value, found.method, found.evidence.document) == ("CE555202677", "llm", "art.txt")
    assert "kept art_number" in result.notes[0]


@pytest.mark.anyio
async def test_without_an_engine_only_patterns_run() -> None:
    package = text_package(replace(default_system(), omit=("art",)))
    result = await check_package(package.case, package.documents, [], package.catalog, CONFIG, None)
    assert result.notes == []
    assert "art_number" not in result.extracted
    assert all(item.method == "pattern" for values in result.extracted.values() for item in values)

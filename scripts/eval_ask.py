"""`make eval`: Hélio's answers judged on the shipped question set (`rag/eval/questions.yaml`).

    python -m scripts.eval_ask [--split test|dev|all] [--engine extractive|llama_cpp]
                               [--generate off|synthesis|always] [--limit N] [--tune]

Builds everything in a scratch data folder with the project's own jobs — a sample catalog (ETL and
embedding), the knowledge bases from `rag/corpus` — then asks every question of the split in-process (no
Serve, the configured assistant) and prints one JSON object:
- `fact_accuracy`: fact questions whose answer holds the fact (the item's regex, on folded text);
- `explain_cited`: explanatory questions whose answer cites the document that explains;
- `catalog_cited`: catalog and price questions citing a product of the category (price: and a R$ value);
- `calc_first_sentence`: calculation questions whose first sentence states the figure asked for;
- `citation_precision`: citations, over every answered answerable question, that support the answer
  (the expected document, a passage holding the fact, a product of the category, the calculation);
- `refusal_recall` / `refusal_precision`: questions that must be refused and are, and refusals that were
  due; `answerable_refused`: answerable questions refused;
- `hit_rate_at_5`: retrieval alone — the expected document (or a product of the category) in the first
  five passages;
- `latency_ms` p50/p95 of the whole answer, and how often a generation was tried and discarded.

`--tune` works on dev only: it searches the fusion weights for hit@5, fits the relevance gate (a logistic
model over `rag.relevance.FEATURES`, its threshold at the fewest errors of both kinds) and prints both,
to be written into `serve_app/config.py` and `rag/relevance.py`. The test split is never used to choose
anything.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from common.settings import PROJECT_ROOT
from kernel.schemas import CATALOG_COLLECTION, PRICING_COLLECTION
from kernel.text import fold
from rag.answer import DONT_KNOW
from rag.assistant import (
    CALCULATION,
    AskQuestion,
    GenerationPolicy,
    HelioAssistant,
    Reply,
)
from rag.passages import Passage
from rag.relevance import FEATURES, RelevanceGate

QUESTIONS = PROJECT_ROOT / "rag" / "eval" / "questions.yaml"
PRODUCT_COLLECTIONS = (CATALOG_COLLECTION, PRICING_COLLECTION)
TOOLS_SOURCE = "POST /store/helio/recommend"
_PRICE = re.compile(r"r\$ ?\d")


def load_questions(split: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [item for item in items if split == "all" or item["split"] == split]


def supports(item: dict[str, Any], passage: Passage) -> bool:
    """Whether a passage (retrieved or cited) is one that answers the item."""
    kind = item["kind"]
    if kind in ("catalog", "price"):
        return passage.collection in PRODUCT_COLLECTIONS and passage.section == item["category"]
    if kind == "calc":
        return passage.source == TOOLS_SOURCE
    if passage.source == item.get("source"):
        return True
    return "fact" in item and re.search(item["fact"], fold(passage.text)) is not None


@dataclass
class Outcome:
    item: dict[str, Any]
    reply: Reply
    took_ms: float

    @property
    def refused(self) -> bool:
        return self.reply.answer.text == DONT_KNOW

    def cited(self) -> list[Passage]:
        by_id = {(p.collection, p.id): p for p in self.reply.prepared.passages}
        calculation = self.reply.prepared.calculation
        if calculation is not None:
            by_id[(calculation.passage.collection, calculation.passage.id)] = calculation.passage
        return [
            by_id[(c.collection, c.id)] for c in self.reply.answer.citations if (c.collection, c.id) in by_id
        ]

    def correct(self) -> bool:
        kind, text = self.item["kind"], fold(self.reply.answer.text)
        if kind == "refuse":
            return self.refused
        if self.refused:
            return False
        if kind == "fact":
            return re.search(self.item["fact"], text) is not None
        if kind == "calc":
            first = text.split("[1]")[0]
            return self.reply.engine == CALCULATION and re.search(self.item["fact"], first) is not None
        cited = any(supports(self.item, p) for p in self.cited())
        return cited and (kind != "price" or _PRICE.search(text) is not None)

    def row(self) -> dict[str, Any]:
        prepared = self.reply.prepared
        return {
            "id": self.item["id"],
            "kind": self.item["kind"],
            "correct": self.correct(),
            "refused": self.refused,
            "hit_at_5": self.item["kind"] != "refuse" and self.hit_at_5(),
            "evidence": dict(zip(FEATURES, prepared.evidence.features(), strict=True)),
            "intent": prepared.route.intent,
            "question": self.item["question"],
            "answer": self.reply.answer.text,
            "top": [p.source for p in prepared.passages[:5]],
            "engine": self.reply.engine,
            "fallback": [f.reason for f in self.reply.fallback],
            "took_ms": round(self.took_ms, 1),
        }

    def hit_at_5(self) -> bool:
        return any(supports(self.item, p) for p in self.reply.prepared.passages[:5])


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    def of(*kinds: str) -> list[Outcome]:
        return [o for o in outcomes if o.item["kind"] in kinds]

    answerable = [o for o in outcomes if o.item["kind"] != "refuse"]
    must_refuse = of("refuse")
    refused = [o for o in outcomes if o.refused]
    citations = [supports(o.item, p) for o in answerable if not o.refused for p in o.cited()]
    latencies = sorted(o.took_ms for o in outcomes)
    tried = [o for o in outcomes if o.reply.generated or len(o.reply.fallback) > 0]
    return {
        "questions": dict(Counter(o.item["kind"] for o in outcomes)),
        "fact_accuracy": _share([o.correct() for o in of("fact")]),
        "explain_cited": _share([o.correct() for o in of("explain")]),
        "catalog_cited": _share([o.correct() for o in of("catalog", "price")]),
        "calc_first_sentence": _share([o.correct() for o in of("calc")]),
        "citation_precision": _share(citations),
        "refusal_recall": _share([o.refused for o in must_refuse]),
        "refusal_precision": _share([o.item["kind"] == "refuse" for o in refused]),
        "answerable_refused": _share([o.refused for o in answerable]),
        "hit_rate_at_5": _share([o.hit_at_5() for o in of("fact", "explain", "catalog", "price")]),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1),
        },
        "generation": {
            "tried": len(tried),
            "kept": sum(o.reply.generated for o in outcomes),
            "discarded": sum(not o.reply.generated for o in tried),
            "reasons": dict(
                Counter(f.reason for o in tried if not o.reply.generated for f in o.reply.fallback)
            ),
        },
        "wrong": sorted(o.item["id"] for o in outcomes if not o.correct()),
    }


async def answer_all(helio: HelioAssistant, items: list[dict[str, Any]]) -> list[Outcome]:
    outcomes = []
    for item in items:
        started = time.perf_counter()
        reply = await helio.ask(AskQuestion(item["question"], (), item.get("context") or {}))
        outcomes.append(Outcome(item, reply, (time.perf_counter() - started) * 1000))
    return outcomes


async def tune(helio: HelioAssistant, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Fusion weights for hit@5, then the gate, both on the items given (dev)."""
    from rag.routing import route

    retrieved = []
    for item in items:
        routed = route(item["question"])
        lists, weights, _ = await helio.retrieve(routed)
        retrieved.append((item, routed, lists, weights))
    base = helio.options
    # hit@5 first, the mean reciprocal rank of the first supporting passage breaking ties.
    best: tuple[tuple[float, float], dict[str, Any]] = ((-1.0, -1.0), {})
    grid = itertools.product(
        (1, 2, 5, 10, 30, 60), (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0), (0.25, 0.5, 0.75, 1.0)
    )
    for rrf_k, lexical_weight, secondary_weight in grid:
        options = replace(base, rrf_k=rrf_k, lexical_weight=lexical_weight, secondary_weight=secondary_weight)
        variant = helio.with_options(options)
        ranks = [
            next(
                (r for r, p in enumerate(variant.rank(lists, _reweighted(weights, routed, options))[:5])
                 if supports(item, p)),
                None,
            )
            for item, routed, lists, weights in retrieved
            if item["kind"] not in ("refuse", "calc")
        ]  # fmt: skip
        score = (
            sum(r is not None for r in ranks) / len(ranks),
            sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks),
        )
        if score > best[0]:
            best = (
                score,
                {"rrf_k": rrf_k, "lexical_weight": lexical_weight, "secondary_weight": secondary_weight},
            )
    options = replace(base, **best[1])
    variant = helio.with_options(options)
    rows, labels = [], []
    for item, routed, lists, weights in retrieved:
        if item["kind"] == "calc":
            continue
        _, _, found = await variant.read(
            item["question"], routed, lists, _reweighted(weights, routed, options)
        )
        rows.append(found.features())
        labels.append(item["kind"] != "refuse")
    x, y = np.array(rows), np.array(labels, dtype=float)
    gate = fit_gate(x, y)
    p = 1 / (1 + np.exp(-(x @ np.array(gate.weights) + gate.bias)))
    answers = p >= gate.threshold
    return {
        "hit_rate_at_5_dev": round(best[0][0], 3),
        "mrr_at_5_dev": round(best[0][1], 3),
        "fusion": best[1],
        "gate": gate.model_dump(),
        "gate_dev": {
            "refusal_recall": round(float((~answers[y == 0]).mean()), 3),
            "answerable_refused": round(float((~answers[y == 1]).mean()), 3),
        },
    }


def _reweighted(weights: dict[str, float], routed: Any, options: Any) -> dict[str, float]:
    return {c: 1.0 if c in routed.collections else options.secondary_weight for c in weights}


def fit_gate(x: np.ndarray, y: np.ndarray, steps: int = 20000, rate: float = 0.5) -> RelevanceGate:
    """Logistic regression by gradient descent (classes weighted equally, light L2), then the threshold
    with the fewest errors, the two kinds weighed equally: the share of questions to refuse that are
    answered plus the share of answerable ones refused (on a tie, the one refusing more)."""
    weight = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        error = (p - y) * weight
        w -= rate * (x.T @ error + 1e-3 * w)
        b -= rate * error.sum()
    p = 1 / (1 + np.exp(-(x @ w + b)))
    edges = np.unique(p)
    candidates = (edges[1:] + edges[:-1]) / 2

    def errors(threshold: float) -> float:
        return float((p[y == 0] >= threshold).mean() + (p[y == 1] < threshold).mean())

    threshold = min(candidates, key=lambda t: (round(errors(t), 9), -t))
    return RelevanceGate(
        weights=tuple(round(float(v), 3) for v in w),  # type: ignore[arg-type]
        bias=round(float(b), 3),
        threshold=round(float(threshold), 4),
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.eval_ask", description=__doc__)
    parser.add_argument("--split", choices=["test", "dev", "all"], default="test")
    parser.add_argument("--engine", choices=["extractive", "llama_cpp"], default="extractive")
    parser.add_argument("--generate", choices=["off", "synthesis", "always"], default=None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of the split")
    parser.add_argument("--budget", type=float, default=None, help="generation budget, s (default: shipped)")
    parser.add_argument("--tune", action="store_true", help="fit fusion weights and the gate on dev")
    parser.add_argument("--products", type=int, default=1500, help="size of the sample catalog")
    parser.add_argument(
        "--data", type=Path, help="build into this folder and keep it (reruns are incremental)"
    )
    parser.add_argument("--details", type=Path, help="write one JSON line per question here")
    args = parser.parse_args()

    from kernel.chat import ChatEngine
    from models.fallback import FallbackChain
    from ray_jobs import knowledge_bases
    from ray_jobs.progress import step
    from scripts.scratch_catalog import scratch_catalog
    from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
    from serve_app.kits import load_catalog_from_postgres
    from services.ask import build_assistant
    from services.recommend import KitRecommender

    items = load_questions("dev" if args.tune else args.split)[: args.limit]
    generate: GenerationPolicy = args.generate or ("off" if args.engine == "extractive" else "always")
    with scratch_catalog(args.data, products=args.products) as built:
        resources, minilm = built.resources, built.embedder
        with step("knowledge bases"):
            config = knowledge_bases.KnowledgeJobConfig(inline_max_texts=100_000)
            knowledge_bases.run(
                config, resources, knowledge_bases.TextEncoder(config, resources.settings, [minilm])
            )

        # The shipped CPU profile's options and local model, as `make run` serves them.
        shipped = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
        engines: list[ChatEngine] = []
        if args.engine == "llama_cpp":
            from models.llama_cpp_engine import LlamaCppConfig, LlamaCppEngine

            local = next(step for step in shipped.chat.engines if isinstance(step, LlamaCppConfig))
            engines.append(LlamaCppEngine(local))
        # The shipped sample tariffs: the eval runs no tariffs job.
        recommender = KitRecommender(
            load_catalog=lambda: load_catalog_from_postgres(resources, 30), max_options=3
        )
        recommender.refresh()
        helio = build_assistant(
            embed=built.embed,
            index=built.index,
            chain=FallbackChain(engines),
            options=shipped.ask.model_copy(
                update={
                    "generate": generate,
                    "generation_budget_s": args.budget or shipped.ask.generation_budget_s,
                }
            ),
            vector_name=minilm.name,
            recommender=recommender,
            catalog_search=built.catalog_search(),
        )
        if args.tune:
            with step(f"tune on {len(items)} dev questions"):
                results = asyncio.run(tune(helio, items))
        else:
            with step(f"ask {len(items)} {args.split} questions ({args.engine}, generate {generate})"):
                outcomes = asyncio.run(answer_all(helio, items))
            results = report(outcomes)
            if args.details:
                args.details.write_text(
                    "".join(json.dumps(o.row(), ensure_ascii=False) + "\n" for o in outcomes)
                )
    print(
        json.dumps({"split": "dev" if args.tune else args.split, "engine": args.engine, **results}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Knowledge-bases job: documents → helio-regulatory/-technical/-sales; offers → helio-pricing.

    python -m ray_jobs.knowledge_bases [--source URI] [--watch] [--config YAML]

Documents come from a folder or an s3:// prefix with one subfolder per collection (`regulatory/`,
`technical/`, `sales/`); they are parsed (`rag.documents`), cut into heading-bounded overlapping
chunks (`rag.chunking`) and only chunks the index lacks are embedded; chunks of edited or deleted
documents leave. Bad documents are kept in `document_rejects` with their reason; one that was indexed
before keeps its chunks until it reads again (as an unreadable feed keeps its offers).

Pricing passages (`rag.pricing`) are not encoded: each reuses its product's dense vectors from
helio-catalog, and gets a lexical vector of its own text. A product the catalog has not embedded yet
is skipped, and picked up by a later run. The index is the state: each run scans it for hashes.

`--watch` syncs every `poll_interval_s`; a cycle that changes something is recorded in `job_runs`.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pydantic import Field

from common import document_store, postgres
from common.document_store import DocumentReject
from common.embedded import init_ray
from common.resources import Resources
from common.settings import Settings, get_settings
from common.storage import ObjectStore
from common.yaml_config import YamlConfig
from kernel.schemas import DOCUMENT_COLLECTIONS, LEXICAL_VECTOR, PRICING_COLLECTION
from kernel.vectors import VectorPoint, VectorStore
from models.embedders import Embedder, load_embedder
from rag import chunking
from rag.analysis import document_vector
from rag.chunking import Chunk, ChunkingConfig
from rag.documents import Document, Rejection, corpus_collection, parse_document
from ray_jobs.indexing import (
    EmbedJobConfig,
    document_collection,
    embedded_batches,
    embedder_configs,
    sync_pricing,
)
from ray_jobs.progress import say, table
from ray_jobs.runner import job_run, migrate_once

JOB_NAME = "knowledge_bases"
COLUMNS = ("added", "updated", "unchanged", "removed", "rejected", "no_vector")
log = logging.getLogger(__name__)


class KnowledgeJobConfig(YamlConfig):
    source: str | None = Field(default=None, description="Folder or s3:// prefix; unset: settings.docs_uri.")
    embed: EmbedJobConfig = Field(default_factory=EmbedJobConfig, description="Models and actor pool.")
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig, description="Chunk and overlap sizes.")
    pricing: bool = Field(default=True, description="Also keep helio-pricing in step with the offers.")
    poll_interval_s: float = Field(default=5.0, gt=0, description="--watch: seconds between two syncs.")
    pricing_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="--watch: seconds between two pricing syncs (reading every offer and catalog hash "
        "costs about a second on the full catalog; offers change with ETL runs, not by the second).",
    )
    inline_max_texts: int = Field(
        default=256,
        ge=0,
        description="Up to this many texts are embedded in the job's process by models loaded once (no "
        "actor-pool start-up, which keeps --watch within seconds); more go through the Ray Data pool.",
    )


class TextEncoder:
    """Few texts: models loaded once in this process. Many: the Ray Data actor pool (`indexing`)."""

    def __init__(self, config: KnowledgeJobConfig, settings: Settings, local: list[Embedder] | None = None):
        self._config, self._settings, self._local = config, settings, local
        self.configs = embedder_configs(config.embed, settings)

    def batches(self, items: Sequence[tuple[str, str]]) -> Iterator[tuple[list[str], dict[str, np.ndarray]]]:
        """(id, text) pairs → (ids, vectors per model name), a batch at a time."""
        if len(items) > self._config.inline_max_texts:
            for batch in embedded_batches(items, self._config.embed, self.configs, self._settings):
                yield (
                    [str(i) for i in batch["id"]],
                    {c.vector_name: batch[c.vector_name] for c in self.configs},
                )
            return
        size = self._config.embed.write_batch_size
        for start in range(0, len(items), size):
            part = items[start : start + size]
            texts = [text for _, text in part]
            yield [i for i, _ in part], {model.name: model.embed(texts) for model in self._models()}

    def _models(self) -> list[Embedder]:
        if self._local is None:
            key = self._settings.openai_api_key
            secret = key.get_secret_value() if key else None
            self._local = [load_embedder(c, secret, self._settings.openai_base_url) for c in self.configs]
        return self._local


@dataclass
class Corpus:
    """The documents of one listing, and its parses by (path, content hash) for the next --watch cycle."""

    documents: dict[str, list[Document]] = field(default_factory=dict)
    rejects: list[DocumentReject] = field(default_factory=list)
    parsed: dict[str, Document | Rejection] = field(default_factory=dict)


def read_corpus(objects: ObjectStore, parsed: dict[str, Document | Rejection]) -> Corpus:
    """Every file of a collection folder, parsed (or taken from `parsed` when its bytes did not change)."""
    if not objects.is_s3 and not Path(objects.root).is_dir():
        # A folder that vanished (unmounted, renamed) must fail the sync, not empty the collections.
        raise FileNotFoundError(f"no document folder {objects.root}")
    corpus = Corpus(documents={c: [] for c in DOCUMENT_COLLECTIONS})
    for path in objects.list_files():
        collection = corpus_collection(path)
        if collection is None:
            continue
        try:
            data = objects.read_bytes(path)
        except OSError as error:
            corpus.rejects.append(DocumentReject(collection, path, "", "unreadable_file", repr(error)[:500]))
            continue
        digest = hashlib.sha256(data).hexdigest()[:32]
        key = f"{path}\x1f{digest}"
        result = parsed[key] if key in parsed else parse_document(path, data)
        corpus.parsed[key] = result
        if isinstance(result, Rejection):
            corpus.rejects.append(DocumentReject(collection, path, digest, result.reason, result.detail))
        else:
            corpus.documents[collection].append(result)
    return corpus


@dataclass
class SyncResult:
    rows: dict[str, dict[str, int]]
    rejects: list[DocumentReject]
    parsed: dict[str, Document | Rejection]

    @property
    def changed(self) -> bool:
        return any(row.get(c, 0) for row in self.rows.values() for c in ("added", "updated", "removed"))


def sync(
    config: KnowledgeJobConfig,
    resources: Resources,
    encoder: TextEncoder,
    conn: psycopg.Connection[Any],
    parsed: dict[str, Document | Rejection] | None = None,
    with_pricing: bool | None = None,
) -> SyncResult:
    """One pass: every document collection, then pricing. Writes new points before deleting old ones,
    so an edited document is never missing from search."""
    names = [c.vector_name for c in encoder.configs]
    store = resources.vectors
    objects = resources.objects(config.source or resources.settings.docs_uri)
    corpus = read_corpus(objects, parsed or {})
    rows: dict[str, dict[str, int]] = {}
    for collection in DOCUMENT_COLLECTIONS:
        store.ensure_collection(document_collection(collection, encoder.configs))
        stored = dict(store.scan(collection, chunking.INDEX_STATE_FIELDS))
        chunks = [
            c for d in corpus.documents[collection] for c in chunking.chunk_document(d, config.chunking)
        ]
        rejected = [r for r in corpus.rejects if r.collection == collection]
        plan = chunking.plan_sync(
            collection, chunks, stored, names, keep_sources={r.source for r in rejected}
        )
        _write_chunks(store, encoder, collection, plan.to_embed)
        store.delete(collection, plan.to_delete)
        rows[collection] = {**plan.counts(), "rejected": len(rejected)}
    if config.pricing if with_pricing is None else with_pricing:
        rows[PRICING_COLLECTION] = sync_pricing(store, encoder.configs, conn)
    return SyncResult(rows=rows, rejects=corpus.rejects, parsed=corpus.parsed)


def _write_chunks(
    store: VectorStore, encoder: TextEncoder, collection: str, to_embed: list[tuple[str, Chunk]]
) -> None:
    by_id = dict(to_embed)
    for ids, vectors in encoder.batches([(point_id, c.embedded_text) for point_id, c in to_embed]):
        points = [
            VectorPoint(
                id=point_id,
                dense={name: vectors[name][row].tolist() for name in vectors},
                sparse={LEXICAL_VECTOR: document_vector(by_id[point_id].embedded_text)},
                payload={**by_id[point_id].payload(), "embedded_with": sorted(vectors)},
            )
            for row, point_id in enumerate(ids)
        ]
        store.upsert(collection, points)


def run(
    config: KnowledgeJobConfig, resources: Resources, encoder: TextEncoder | None = None
) -> dict[str, dict[str, int]]:
    """One sync, recorded in job_runs; returns counts per collection."""
    encoder = encoder or TextEncoder(config, resources.settings)
    with job_run(resources, JOB_NAME, document_store.SCHEMA) as run:
        result = sync(config, resources, encoder, run.conn)
        document_store.record_document_rejects(run.conn, rejects=result.rejects, run_id=run.id)
        run.report(result.rows, row_counts(result.rows))
    return result.rows


def row_counts(rows: dict[str, dict[str, int]]) -> postgres.RowCounts:
    """Over every collection: chunks kept (added, updated, unchanged), written (added, updated, removed)
    and documents rejected."""

    def total(*columns: str) -> int:
        return sum(row.get(c, 0) for row in rows.values() for c in columns)

    accepted, rejected = total("added", "updated", "unchanged"), total("rejected")
    return postgres.RowCounts(
        read=accepted + rejected,
        accepted=accepted,
        written=total("added", "updated", "removed"),
        rejected=rejected,
    )


def watch(
    config: KnowledgeJobConfig,
    resources: Resources,
    stop: threading.Event,
    encoder: TextEncoder | None = None,
) -> None:
    """Sync every `poll_interval_s` until `stop` is set. A cycle that changed something (or whose rejects
    differ from the last cycle's) is recorded as a run, so job_runs does not grow by one row per poll; a
    failing cycle (source or database unreachable) is logged, and the next one tries again."""
    encoder = encoder or TextEncoder(config, resources.settings)
    parsed: dict[str, Document | Rejection] = {}
    last_rejects: list[DocumentReject] | None = None
    pricing_due = time.monotonic()
    while not stop.is_set():
        try:
            with resources.connect() as conn:
                migrate_once(conn, document_store.SCHEMA)
                with_pricing = config.pricing and time.monotonic() >= pricing_due
                result = sync(config, resources, encoder, conn, parsed, with_pricing)
                if with_pricing:
                    pricing_due = time.monotonic() + config.pricing_interval_s
                if result.changed or result.rejects != last_rejects:
                    with job_run(resources, JOB_NAME, document_store.SCHEMA, conn=conn) as run:
                        document_store.record_document_rejects(conn, rejects=result.rejects, run_id=run.id)
                        run.report(result.rows, row_counts(result.rows))
                    say(table(result.rows, COLUMNS))
                last_rejects, parsed = result.rejects, result.parsed
        except Exception:
            log.exception("knowledge-bases sync failed; retrying in %.0f s", config.poll_interval_s)
        stop.wait(config.poll_interval_s)


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ray_jobs.knowledge_bases", description=__doc__)
    parser.add_argument("--source", help="folder or s3:// prefix with the documents (default: DOCS_URI)")
    parser.add_argument("--watch", action="store_true", help="keep syncing every poll_interval_s")
    parser.add_argument("--config", type=Path, help="YAML with a KnowledgeJobConfig")
    args = parser.parse_args(argv)
    config = KnowledgeJobConfig.from_yaml(args.config) if args.config else KnowledgeJobConfig()
    if args.source:
        config = config.model_copy(update={"source": args.source})
    init_ray(settings)
    resources = Resources(settings)
    if args.watch:
        logging.basicConfig(level=logging.INFO)
        say(
            f"watching {config.source or settings.docs_uri} every {config.poll_interval_s:g} s (Ctrl-C stops)"
        )
        stop = threading.Event()
        try:
            watch(config, resources, stop)
        except KeyboardInterrupt:
            stop.set()
        return 0
    rows = run(config, resources)
    say(table(rows, COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the evals share: a sample catalog built into a scratch data folder with the project's own jobs
(catalog ETL, then embedding), and catalog search over it in this process, as the shipped CPU profile
configures it (`serve_app/configs/cpu.yaml`), without Serve or the index owner actor.

    with scratch_catalog(None, products=1500) as built:        # a fresh sample of 1,500 products
        search = built.catalog_search()
    with scratch_catalog(Path("/tmp/keep"), feeds=Path("sample_feeds")) as built:   # `make sample`'s feeds
        ...
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.resources import Resources
    from common.settings import Settings
    from common.vectors.client import DirectVectorIndex
    from common.vectors.edge import EdgeVectorStore
    from models.embedders import SentenceTransformerEmbedder
    from services.search import CatalogSearch

SAMPLE_SEED = 42


@dataclass
class ScratchCatalog:
    settings: Settings
    resources: Resources  # its vector store is `store`, in this process
    store: EdgeVectorStore
    embedder: SentenceTransformerEmbedder  # the query side of the index's vectors
    index: DirectVectorIndex

    async def embed(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed([text])[0]]

    def catalog_search(self) -> CatalogSearch:
        """`CatalogSearch` with the shipped router's retrieval options (brands read once: nothing changes)."""
        from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig
        from services.search import CatalogSearch

        router = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG).router
        return CatalogSearch(
            embed=self.embed,
            index=self.index,
            vector_name=self.embedder.name,
            brands_refresh_s=3600,
            candidates=router.candidates,
            rank_pool=router.rank_pool,
        )


@contextlib.contextmanager
def scratch_catalog(
    data: Path | None,
    *,
    feeds: Path | None = None,
    products: int | None = None,
    prefix: str = "ysh-eval-",
) -> Iterator[ScratchCatalog]:
    """Build a catalog into `data` (kept, and reruns are incremental) or a temporary folder (removed, its
    Postgres stopped, on exit): the feeds in `feeds`, or else a sample of `products` products written there
    (seed 42; None: the default sample's size). Starts a local Ray in this process unless one is up."""
    from common.embedded import init_ray
    from common.resources import Resources
    from common.settings import Settings
    from common.vectors.client import DirectVectorIndex
    from common.vectors.edge import EdgeVectorStore
    from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
    from ray_jobs import catalog_etl, embed_catalog, indexing
    from ray_jobs.progress import quiet_ray_data, step
    from samples.feeds import write_sample

    with contextlib.ExitStack() as cleanup:
        root = data or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        settings = Settings(data_dir=root)
        init_ray(settings)
        store = EdgeVectorStore(root / "index")  # in this process: the evals search without the actor
        resources = Resources(settings, vectors=store)
        quiet_ray_data()
        if feeds is None:
            feeds = root / "feeds"
            with step(f"sample feeds ({products or 'default'} products)"):
                write_sample(feeds, seed=SAMPLE_SEED, products=products)
        with step(f"catalog ETL of {feeds}"):
            etl = catalog_etl.CatalogEtlConfig(source=str(feeds), feeds_config=settings.feeds_config)
            catalog_etl.run(etl, resources)
        with step("embed the catalog"):
            embed_catalog.run(indexing.EmbedJobConfig(), resources)
        try:
            yield ScratchCatalog(
                settings=settings,
                resources=resources,
                store=store,
                embedder=SentenceTransformerEmbedder(EmbedderConfig()),
                index=DirectVectorIndex(store),
            )
        finally:
            store.close()
            if data is None:
                import pgserver

                pgserver.get_server(settings.postgres_dir).cleanup()

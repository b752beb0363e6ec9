"""The packaged MiniLM on CUDA: the same vectors as on CPU, alone and in the embedding job's Ray Data
actor pool with the GPU profile (`ray_jobs/configs/embed-gpu.yaml`). Skipped without CUDA."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from common.settings import PROJECT_ROOT, Settings
from models.embedders import EmbedderConfig, SentenceTransformerEmbedder
from ray_jobs.indexing import EmbedJobConfig, embedded_batches

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)

TEXTS = [
    "Inversor Growatt MIN 5000TL-X 5 kW monofásico 220 V",
    "Painel solar Jinko Tiger Neo 575 W bifacial",
    "Bateria de lítio 5 kWh 48 V para sistema híbrido",
    "Estrutura para telhado cerâmico, 4 módulos",
    "Cabo solar 6 mm² preto, rolo de 50 m",
]
# fp32 on CPU vs GPU kernels: the same space, not the same bits.
TOLERANCE = 1e-3
GPU_PROFILE = EmbedJobConfig.from_yaml(PROJECT_ROOT / "ray_jobs" / "configs" / "embed-gpu.yaml")


@pytest.fixture(scope="module")
def cpu_vectors(minilm: SentenceTransformerEmbedder) -> np.ndarray:
    return minilm.embed(TEXTS)


def test_minilm_on_cuda_matches_cpu(cpu_vectors: np.ndarray) -> None:
    embedder = SentenceTransformerEmbedder(GPU_PROFILE.embedder)
    assert embedder.model.device.type == "cuda"
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == cpu_vectors.shape
    np.testing.assert_allclose(vectors, cpu_vectors, atol=TOLERANCE)


def test_gpu_embedding_throughput(cpu_vectors: np.ndarray) -> None:
    """Product texts per second on the GPU at the profile's batch size, printed (`make test-gpu`), not held
    to a number; the vectors of the measured run are checked against the CPU's."""
    embedder = SentenceTransformerEmbedder(GPU_PROFILE.embedder)
    texts = [f"{text} #{i}" for i in range(1000) for text in TEXTS]
    embedder.embed(texts[: GPU_PROFILE.embedder.batch_size])  # CUDA kernels load on the first batch
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    rate = len(texts) / (time.perf_counter() - started)
    assert vectors.shape == (len(texts), cpu_vectors.shape[1])
    print(
        f"\nMiniLM on {torch.cuda.get_device_name()}: {rate:,.0f} texts/s"
        f" (batch {GPU_PROFILE.embedder.batch_size})"
    )


@pytest.mark.slow
def test_the_job_actor_pool_embeds_on_a_gpu(
    ray_session: Any, settings: Settings, cpu_vectors: np.ndarray
) -> None:
    """One actor holding a whole GPU: with no GPU assigned, Ray hides the devices and loading on cuda
    fails, so vectors coming back at all means the pool ran on the GPU."""
    config = GPU_PROFILE.model_copy(
        update={"min_actors": 1, "max_actors": 1, "num_cpus_per_actor": 1, "batch_size": 2}
    )
    configs: list[EmbedderConfig] = [config.embedder]
    items = [(f"p{i}", text) for i, text in enumerate(TEXTS)]
    rows: dict[str, np.ndarray] = {}
    for batch in embedded_batches(items, config, configs, settings):
        rows.update(zip(map(str, batch["id"]), batch[config.embedder.vector_name], strict=True))
    vectors = np.stack([rows[item_id] for item_id, _ in items])
    np.testing.assert_allclose(vectors, cpu_vectors, atol=TOLERANCE)

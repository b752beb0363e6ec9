"""The query encoder on ONNX Runtime: a sentence-transformers model exported once, run without torch.

A storefront query is a handful of tokens, where torch's per-call overhead outweighs the arithmetic:
on one thread of this machine, measured side by side under load, MiniLM took 32 ms a query through torch
and 7 ms through ONNX Runtime (README, Performance). The export keeps every weight in float32 and folds
the model's own mean pooling and L2 normalisation into the graph, so its vectors are the torch model's
(cosine ≥ 0.9999, the same top-10: tests/models/test_onnx_encoder.py) and land in the same named
vector. torch's dynamic int8 quantisation was tried and dropped: it moved the vectors (cosine 0.94 on
average).

The export needs torch and `onnx`, ≈4 s; it is written once per model and library versions under
`cache_dir` (atomically: replicas starting together each write their own file and the last rename wins)
and every later start only loads it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ysh-platform" / "onnx"


def _pooled_encoder(transformer: Any) -> Any:
    """The transformer, then the attention-masked mean over tokens, then L2 normalisation: what the
    sentence-transformers pipeline [Transformer, Pooling(mean), Normalize] computes."""
    import torch

    class PooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    return PooledEncoder().eval()


def _check_pipeline(model: Any) -> None:
    """Only the pipeline `_pooled_encoder` reproduces may be exported; anything else would move vectors."""
    kinds = [type(module).__name__ for module in model]
    pooling = model[1] if len(kinds) > 1 else None
    if kinds != ["Transformer", "Pooling", "Normalize"] or getattr(pooling, "pooling_mode", None) != "mean":
        raise ValueError(
            f"the ONNX encoder reproduces Transformer → mean Pooling → Normalize; this model is {kinds} "
            f"(pooling {getattr(pooling, 'pooling_mode', None)!r}): use kind sentence-transformers"
        )


def _export_key(model_dir: Path) -> str:
    """Changes with the model's files and with the libraries that trace and run it."""
    import onnx
    import torch
    import transformers

    digest = hashlib.sha256(f"{torch.__version__} {transformers.__version__} {onnx.__version__}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _export(model: Any, target: Path) -> None:
    import torch

    encoder = _pooled_encoder(model[0].auto_model)
    sample = model.tokenizer(["painel 550W", "inversor 5 kW trifásico"], padding=True, return_tensors="pt")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    os.close(handle)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes; the axes below stay free
            torch.onnx.export(
                encoder,
                (sample["input_ids"], sample["attention_mask"]),
                scratch,
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)


class OnnxEmbedder:
    """`Embedder` over ONNX Runtime; the model is a sentence-transformers folder (see module docstring)."""

    def __init__(self, model_dir: Path, vector_name: str, batch_size: int, cache_dir: Path) -> None:
        import onnxruntime
        import torch
        from sentence_transformers import SentenceTransformer

        if not model_dir.is_dir():
            raise ValueError(f"the ONNX encoder exports a local sentence-transformers folder: {model_dir}")
        model = SentenceTransformer(str(model_dir), device="cpu")
        _check_pipeline(model)
        self.name = vector_name
        self.dim = int(model.get_embedding_dimension() or 0)
        self.batch_size = batch_size
        self._tokenizer = model.tokenizer
        self._max_tokens = int(model.max_seq_length or model.tokenizer.model_max_length)
        graph = cache_dir / f"{model_dir.name}-{_export_key(model_dir)}.onnx"
        if not graph.exists():
            _export(model, graph)
        del model  # the torch weights were for the export only
        options = onnxruntime.SessionOptions()
        # As many threads as torch would use here: Ray sets OMP_NUM_THREADS to the replica's num_cpus.
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = [
            self._encode(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(vectors) if vectors else np.zeros((0, self.dim), dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        tokens = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_tokens, return_tensors="np"
        )
        inputs = {name: tokens[name].astype(np.int64) for name in ("input_ids", "attention_mask")}
        (vectors,) = self._session.run(["embedding"], inputs)
        return np.asarray(vectors, dtype=np.float32)

"""The model app's ingress (`helio-llm` in gpu.yaml): Ray Serve LLM's OpenAI ingress answering only the
cluster's own router, which presents `LLM_API_KEY` as its bearer token.

Serve exposes every application on the same HTTP port of every node, and the model app scales its GPU
replicas from zero: open, any caller could wake an L4 node and use the model. gpu.yaml names
`KeyedOpenAiIngress` in `ingress_cls_config`; every endpoint that reaches the model (chat, completions,
embeddings, score, tokenize, transcriptions) then checks the key first, in constant time. The class is
built on first access, so importing this module needs no vLLM (only GPU nodes have it).
"""

from __future__ import annotations

import functools
import hmac
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import HTTPException
from starlette.requests import Request

KEY_VARIABLE = "LLM_API_KEY"
# The OpenAI ingress's endpoints that take the raw request, i.e. every one that reaches the model.
KEYED_ENDPOINTS = ("chat", "completions", "embeddings", "score", "tokenize", "detokenize", "transcriptions")


def require_key(headers: Mapping[str, str], key: str | None) -> None:
    """HTTPException 401 unless the request carries `Authorization: Bearer <key>`; 503 with no key set,
    so a node missing its secret refuses everyone rather than serving everyone."""
    if not key:
        raise HTTPException(503, f"{KEY_VARIABLE} is not set on this node: the model serves no one")
    presented = headers.get("authorization", "").encode()
    if not hmac.compare_digest(presented, f"Bearer {key}".encode()):
        raise HTTPException(
            401, "the model answers the cluster's router only", {"WWW-Authenticate": "Bearer"}
        )


def _guarded(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    # functools.wraps keeps the endpoint's signature (FastAPI reads it through __wrapped__): the body
    # is still parsed into the OpenAI request model. FastAPI passes every parameter by name.
    @functools.wraps(endpoint)
    async def checked(self: Any, **parameters: Any) -> Any:
        request = next(value for value in parameters.values() if isinstance(value, Request))
        require_key(request.headers, os.environ.get(KEY_VARIABLE))
        return await endpoint(self, **parameters)

    return checked


def keyed(ingress: type) -> type:
    """A subclass of `ingress` whose model endpoints require the key."""
    guarded = {name: _guarded(getattr(ingress, name)) for name in KEYED_ENDPOINTS if hasattr(ingress, name)}
    return type(f"Keyed{ingress.__name__}", (ingress,), guarded)


def __getattr__(name: str) -> type:
    if name == "KeyedOpenAiIngress":
        from ray.serve.llm.ingress import OpenAiIngress  # imports vLLM: GPU nodes only

        return keyed(OpenAiIngress)
    raise AttributeError(name)

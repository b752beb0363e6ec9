"""A chat engine over any OpenAI-compatible HTTP endpoint: OpenAI, Ollama, a vLLM server.

Plain httpx (no `openai` SDK): POST {base_url}/chat/completions, streamed as server-sent events
(`data: {...}` lines ending with `data: [DONE]`). Connect errors, timeouts and 5xx answers are
retried with exponential backoff and jitter; a 429 waits for its `Retry-After` (up to a cap) and
counts as a retry; any other 4xx is the caller's or the config's fault and fails at once. Every
failure reaches the caller as `EngineUnavailable`, with the HTTP status and the API's message.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from kernel.chat import ChatRequest, ChatResult, EngineUnavailable


class OpenAICompatibleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["openai"] = "openai"
    name: str | None = Field(
        default=None, description='Engine name in responses; None gives "openai:<model>".'
    )
    base_url: str | None = Field(
        default=None,
        description="Endpoint up to /v1 (e.g. http://127.0.0.1:11434/v1 for Ollama). None means OpenAI "
        "itself: base URL and key come from the settings, and the step is skipped when no key is set.",
    )
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token; None sends no Authorization header (Ollama, an open server)."
    )
    model: str = Field(default="gpt-4o-mini", description="Model name the endpoint knows.")
    timeout_s: float = Field(
        default=30.0, gt=0, description="Per-attempt timeout: connect, and each read (each SSE chunk)."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries after the first attempt.")
    backoff_base_s: float = Field(
        default=0.5, ge=0, description="First backoff; doubles per retry, with jitter."
    )
    backoff_max_s: float = Field(default=8.0, ge=0, description="Longest backoff between attempts.")
    max_retry_after_s: float = Field(
        default=20.0,
        ge=0,
        description="Longest 429 Retry-After honoured; a longer one fails at once as rate limited.",
    )


class _Retry(Exception):
    """One attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


class OpenAICompatibleEngine:
    """One `httpx.AsyncClient` (connection pool) per engine; `aclose` it when done."""

    def __init__(self, config: OpenAICompatibleConfig) -> None:
        if config.base_url is None:
            raise ValueError("base_url is unset: OpenAI's URL and key come from the settings (build_chain)")
        self.config = config
        self.name = config.name or f"openai:{config.model}"
        headers = {"Authorization": f"Bearer {config.api_key.get_secret_value()}"} if config.api_key else {}
        self.client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/", headers=headers, timeout=config.timeout_s
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def _payload(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.config.model,
            "messages": [message.model_dump() for message in request.messages],
            "temperature": request.temperature,
            "stream": stream,
        }
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if request.stop:
            payload["stop"] = request.stop
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    async def generate(self, request: ChatRequest) -> ChatResult:
        started = time.perf_counter()
        response = await self._send(self._payload(request, stream=False), stream=False)
        try:
            body = response.json()
            choice = body["choices"][0]
            usage = body.get("usage") or {}
            return ChatResult(
                text=choice["message"]["content"] or "",
                engine=self.name,
                finish_reason=choice.get("finish_reason"),
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                duration_s=time.perf_counter() - started,
            )
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EngineUnavailable(f"malformed answer from {self.name}: {exc!r}") from exc

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        response = await self._send(self._payload(request, stream=True), stream=True)
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, event names
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                choices = json.loads(data).get("choices") or []
                delta = choices[0].get("delta", {}).get("content") if choices else None
                if delta:
                    yield delta
            raise EngineUnavailable("stream broken: it ended without [DONE]")
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"stream broken: {type(exc).__name__}: {exc}") from exc
        except (ValueError, AttributeError, IndexError) as exc:
            raise EngineUnavailable(f"malformed stream from {self.name}: {exc!r}") from exc
        finally:
            await response.aclose()

    async def _send(self, payload: dict[str, Any], *, stream: bool) -> httpx.Response:
        """A 2xx response (with its body unread when `stream`), after the retries;
        `EngineUnavailable` when the attempts run out or the request itself is refused."""
        attempts = self.config.max_retries + 1
        attempt = 0
        while True:
            try:
                request = self.client.build_request("POST", "chat/completions", json=payload)
                response = await self.client.send(request, stream=stream)
                if response.status_code >= 400:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                    self._raise_for_status(response)
                return response
            except httpx.TimeoutException as exc:
                retry = _Retry(f"timed out after {self.config.timeout_s:g} s ({type(exc).__name__})")
            except httpx.TransportError as exc:
                retry = _Retry(f"{type(exc).__name__}: {exc}")
            except _Retry as exc:
                retry = exc
            if attempt + 1 == attempts:
                raise EngineUnavailable(f"{retry.reason} (after {attempts} attempts)")
            await asyncio.sleep(retry.wait_s if retry.wait_s is not None else self._backoff(attempt))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _raise_for_status(self, response: httpx.Response) -> None:
        message = _error_message(response)
        if self.config.api_key:  # a refusal may quote the key, and the reason reaches the caller's answer
            message = message.replace(self.config.api_key.get_secret_value(), "***")
        if response.status_code == 429:
            wait_s = _retry_after_s(response)
            if wait_s is not None and wait_s > self.config.max_retry_after_s:
                raise EngineUnavailable(f"rate limited (Retry-After {wait_s:g} s): {message}")
            raise _Retry(f"rate limited: {message}", wait_s)
        if response.status_code >= 500:
            raise _Retry(f"HTTP {response.status_code}: {message}")
        raise EngineUnavailable(f"HTTP {response.status_code}: {message}")


def _error_message(response: httpx.Response) -> str:
    """The API's own message (OpenAI: {"error": {"message": ...}}), else the start of the body."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return response.text[:200] or response.reason_phrase


def _retry_after_s(response: httpx.Response) -> float | None:
    """Retry-After in seconds; None when absent or an HTTP date (then the backoff applies)."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None

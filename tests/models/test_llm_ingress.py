"""The model app answers the cluster's router only: `keyed` puts every model endpoint of an ingress
behind LLM_API_KEY, and gpu.yaml deploys the keyed ingress.

Ray Serve LLM's own `OpenAiIngress` imports vLLM, which this machine lacks (tests/gpu runs it, key
included, on a GPU); here a stand-in with the same endpoint shapes — a parsed body and the raw request —
is routed the way `make_fastapi_ingress` routes the real one, by method name.
"""

from __future__ import annotations

import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from models.llm_ingress import KEY_VARIABLE, keyed
from serve_app.config import DEFAULT_SERVE_CONFIG
from serve_app.errors import install_error_handlers

KEY = "llm-key-0123456789abcdef0123456789"


class ChatBody(BaseModel):
    model: str
    messages: list[dict[str, str]]


class StandInIngress:
    """The endpoint shapes of `ray.serve.llm.ingress.OpenAiIngress`."""

    async def chat(self, body: ChatBody, request: Request) -> dict[str, str]:
        return {"model": body.model, "answer": "ok"}

    async def models(self) -> dict[str, list[str]]:
        return {"data": ["qwen"]}


@pytest.fixture
def client() -> TestClient:
    ingress = keyed(StandInIngress)()
    app = FastAPI()
    install_error_handlers(app)
    app.post("/v1/chat/completions")(ingress.chat)
    app.get("/v1/models")(ingress.models)
    return TestClient(app)


BODY = {"model": "qwen", "messages": [{"role": "user", "content": "oi"}]}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer guess"}, {"Authorization": KEY}, {"Authorization": f"Bearer {KEY}x"}],
)
def test_without_the_key_the_model_is_not_reached(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    response = client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert KEY not in response.text


def test_with_the_key_the_body_is_still_parsed_and_answered(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    auth = {"Authorization": f"Bearer {KEY}"}
    assert client.post("/v1/chat/completions", json=BODY, headers=auth).json() == {
        "model": "qwen",
        "answer": "ok",
    }
    assert client.post("/v1/chat/completions", json={"model": 1}, headers=auth).status_code == 422
    assert client.get("/v1/models").status_code == 200  # the list of models wakes no GPU


def test_a_node_without_the_key_serves_no_one(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    response = client.post("/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer "})
    assert response.status_code == 503 and KEY_VARIABLE in response.json()["detail"]


def test_gpu_yaml_deploys_the_model_app_behind_the_key() -> None:
    document = yaml.safe_load(DEFAULT_SERVE_CONFIG.with_name("gpu.yaml").read_text(encoding="utf-8"))
    for application in document["applications"]:
        if application["import_path"] == "ray.serve.llm:build_openai_app":
            ingress = application["args"]["ingress_cls_config"]["ingress_cls"]
            assert ingress == "models.llm_ingress:KeyedOpenAiIngress"
        else:
            assert application["import_path"] == "serve_app.app:build_app"

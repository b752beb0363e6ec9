"""Secrets stay secret: with every secret setting set to a distinctive value, no response of the API —
`/health`, the OpenAPI document and docs, answers and every kind of error — and no log record carries one.

The app is the in-process router app (`tests.serve_app.local_app`), its chat chain and admin API built
from the Settings the way the router builds them. OpenAI is the local stand-in (the real service cannot
run here), scripted to refuse the key the way a misconfigured proxy does: echoing it back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

import cloudpickle
import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from common.embedded import postgres_dsn
from common.run_history import TriggerOutcome
from common.settings import Settings
from models.chat_engines import ChatChainConfig
from models.embedders import SentenceTransformerEmbedder
from serve_app.app import build_search_app
from serve_app.config import SearchAppConfig
from serve_app.limits import LimitsOptions
from serve_app.llm import build_router_chain
from serve_app.routes.admin import AdminService
from services.recommend import KitRecommender
from tests.openai_chat_stand_in import ChatStandIn, running_chat_stand_in
from tests.serve_app.local_app import indexed_store, local_api

SECRETS = {
    "openai_api_key": "sk-proj-OPENAI-7f3a9c1e5d",
    "admin_token": "adm-TOKEN-5b2d8e4f1a-9c3e7a1d5f0b2e4c",
    "erp_token": "erp-TOKEN-9c4e1a7b3f",
    "qdrant_api_key": "qd-KEY-3e8f2a6c9b",
    "aws_secret_access_key": "aws-SECRET-1d7c5b9e2c",
}
DB_PASSWORD = "pg-PASS-6a2f8d3c4e"
EVERY_SECRET = [*SECRETS.values(), DB_PASSWORD]


@pytest.fixture(scope="module")
def stand_in() -> Iterator[ChatStandIn]:
    with running_chat_stand_in() as server:
        yield server


@pytest.fixture(scope="module")
def secret_settings(settings: Settings, stand_in: ChatStandIn) -> Settings:
    return settings.model_copy(
        update={
            **{name: SecretStr(value) for name, value in SECRETS.items()},
            # Nothing listens on port 1: the admin's run history fails to connect.
            "database_url": f"postgresql://helio:{DB_PASSWORD}@127.0.0.1:1/helio?connect_timeout=2",
            "openai_base_url": stand_in.base_url,
        }
    )


async def failing_trigger(job: str) -> TriggerOutcome:
    raise RuntimeError(f"scheduler said: token {SECRETS['admin_token']} refused for {job}")


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
    secret_settings: Settings,
    minilm: SentenceTransformerEmbedder,
    recommender: KitRecommender,
) -> Iterator[TestClient]:
    store = indexed_store(tmp_path_factory.mktemp("secrets-index"), minilm)
    chain = build_router_chain(
        ChatChainConfig.model_validate({"engines": [{"kind": "openai", "model": "gpt-x", "max_retries": 0}]}),
        secret_settings,
        None,
    )
    admin = AdminService(
        token=secret_settings.admin_token, dsn=partial(postgres_dsn, secret_settings), trigger=failing_trigger
    )
    limits = LimitsOptions(rate_per_s=0.001, burst=30, max_body_bytes=10_000)
    with TestClient(local_api(store, minilm, recommender, limits, admin, chain=chain)) as client:
        yield client
    store.close()


def assert_no_secret(response: httpx.Response) -> None:
    exposed = response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
    assert not [secret for secret in EVERY_SECRET if secret in exposed], (response.request.url, exposed)


def test_settings_do_not_show_their_secrets() -> None:
    settings = Settings(**{name: SecretStr(value) for name, value in SECRETS.items()})
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert not [secret for secret in SECRETS.values() if secret in shown]


@pytest.mark.slow
def test_no_response_and_no_log_carries_a_secret(
    client: TestClient, stand_in: ChatStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    admin = {"Authorization": f"Bearer {SECRETS['admin_token']}"}
    stand_in.fail(401, times=3, message=f"Incorrect API key provided: {SECRETS['openai_api_key']}")
    with caplog.at_level(logging.DEBUG):
        responses = {
            "health": client.get("/health"),
            "openapi": client.get("/openapi.json"),
            "docs": client.get("/docs"),
            "ask": client.post("/store/helio/ask", json={"question": "Vocês têm inversor de 5 kW?"}),
            "ask_stream": client.post("/store/helio/ask", json={"question": "inversor 5 kW", "stream": True}),
            "not_found": client.get("/store/helio/nothing"),
            "invalid": client.get("/store/helio/search", params={"q": "painel", "limit": 0}),
            "unknown_product": client.get("/store/helio/products/nope/compatible"),
            "too_large": client.post("/store/helio/ask", content=b"x" * 20_000),
            "no_token": client.get("/admin/runs"),
            "wrong_token": client.get("/admin/runs", headers={"Authorization": "Bearer guess"}),
            "database_down": client.get("/admin/runs", headers=admin),
            "scheduler_down": client.post("/admin/jobs/catalog_etl/run", headers=admin),
        }
        while (limited := client.get("/store/helio/search", params={"q": "painel"})).status_code != 429:
            pass
        responses["rate_limited"] = limited
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "health": 200, "openapi": 200, "docs": 200, "ask": 200, "ask_stream": 200, "not_found": 404,
        "invalid": 422, "unknown_product": 404, "too_large": 413, "no_token": 401, "wrong_token": 401,
        "database_down": 503, "scheduler_down": 503, "rate_limited": 429,
    }  # fmt: skip
    assert responses["ask"].json()["fallback"][0]["reason"].startswith("HTTP 401")  # the refusal was seen
    for response in responses.values():
        assert_no_secret(response)
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert not [secret for secret in EVERY_SECRET if secret in logged], logged


@pytest.mark.slow
def test_the_openapi_document_names_no_secret_setting(client: TestClient) -> None:
    document = client.get("/openapi.json").text
    assert not [name for name in (*SECRETS, "database_url", "DATABASE_URL") if name in document]


def test_the_deployed_app_carries_no_secret(secret_settings: Settings) -> None:
    """Bind arguments are pickled into the application (`serve status`, the dashboard, the controller's
    checkpoint): none may hold a secret; replicas read them from their environment."""
    config = SearchAppConfig.model_validate(
        {"chat": {"engines": [{"kind": "openai", "model": "gpt-x"}, {"kind": "llama_cpp"}]}}
    )
    deployed = cloudpickle.dumps(build_search_app(config, secret_settings))
    assert not [secret for secret in EVERY_SECRET if secret.encode() in deployed]


def test_a_replica_takes_its_secrets_from_its_environment(
    secret_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("DATABASE_URL", secret_settings.database_url or "")
    public = secret_settings.without_secrets()
    assert public.openai_api_key is None and DB_PASSWORD not in (public.database_url or "")
    restored = public.with_secrets_from_environment()
    assert {name: getattr(restored, name).get_secret_value() for name in SECRETS} == SECRETS
    assert restored.database_url == secret_settings.database_url

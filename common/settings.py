"""The one settings object. Every environment variable the platform reads is declared here.

Unset service URLs mean "use the embedded default": pgserver for Postgres, Qdrant Edge for the
vector index, a local folder for objects, a local Ray. Set, they point at real servers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    base_dir: Path = Field(
        default=PROJECT_ROOT,
        description=(
            "Relative paths (data_dir, feeds, documents, tariffs, irradiance, a job's --source) resolve "
            "against it. The local stack publishes the checkout it runs from, so a job submitted with "
            "`ray job submit --working-dir .` (run in Ray's copy of the checkout) reads the same files."
        ),
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where embedded services keep their state (Postgres cluster, Qdrant Edge shards).",
    )
    database_url: str | None = Field(
        default=None,
        description="Postgres DSN; unset starts the embedded pgserver under data_dir.",
        repr=False,  # it may carry a password; a str (not SecretStr) because every adapter takes it as is
    )
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server URL; unset uses Qdrant Edge shards under data_dir."
    )
    qdrant_api_key: SecretStr | None = None
    ray_address: str | None = Field(
        default=None, description="Ray cluster address; unset starts a local Ray."
    )
    feeds_uri: str = Field(
        default="sample_feeds",
        description="Folder or s3:// prefix with the distributor feeds.",
    )
    feeds_config: Path = Field(
        default=PROJECT_ROOT / "catalog" / "feeds.yaml",
        description="Per-distributor column/unit mappings.",
    )
    tariffs_source: str = Field(
        default="solar/data/tarifas-amostra.csv",
        description="ANEEL tariff CSV (path or s3://) that `make run` loads; the job also takes a CKAN URL.",
    )
    irradiance_uri: str = Field(
        default="solar/data/irradiancia-capitais.csv",
        description="Irradiance per municipality in the Atlas Brasileiro CSV format: a path or s3:// URI.",
    )
    docs_uri: str = Field(
        default="rag/corpus",
        description="Folder or s3:// prefix with the knowledge-base documents, one subfolder per collection.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, moto); unset means AWS."
    )
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    openai_api_key: SecretStr | None = Field(
        default=None, description="Enables the OpenAI fallbacks (text-embedding-3-small, chat)."
    )
    openai_base_url: str = "https://api.openai.com/v1"
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token the /admin endpoints require. Unset: `make run` makes one under data_dir and "
            "prints where; elsewhere the admin endpoints answer 503."
        ),
    )
    serve_config: Path = Field(
        default=PROJECT_ROOT / "serve_app" / "configs" / "cpu.yaml",
        description="The Serve config (or bare SearchAppConfig YAML) the local stack deploys.",
    )
    schedules_config: Path = Field(
        default=PROJECT_ROOT / "ray_jobs" / "schedules.yaml",
        description="The scheduler's jobs, cron schedules (America/Sao_Paulo) and retry policy.",
    )
    erp_url: str | None = Field(
        default=None, description="Base URL of the ERP API; unset leaves the ERP sync jobs idle."
    )
    erp_token: SecretStr | None = Field(default=None, description="Bearer token for the ERP API.")
    erp_timeout_s: float = Field(default=10.0, gt=0, description="Per-request timeout towards the ERP.")
    job_submission_id: str | None = Field(
        default=None,
        description="Set by the scheduler in a submitted run's environment; recorded with the job's run.",
    )
    job_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Set by the scheduler in a submitted run's environment: the run's time limit.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="Kafka brokers (host:port,…); unset: the ERP change-stream consumers don't start.",
    )
    kafka_group_id: str = Field(default="ysh-platform", description="Consumer group of the CDC consumers.")
    kafka_topic_orders: str = "ysh-erp.orders"
    kafka_topic_prices: str = "ysh-erp.prices"
    kafka_topic_homologacao: str = "ysh-erp.homologacao"

    @model_validator(mode="after")
    def _paths_from_base_dir(self) -> Settings:
        self.data_dir = self.base_dir / self.data_dir  # an absolute data_dir stays as it is
        for name in ("feeds_uri", "docs_uri", "tariffs_source", "irradiance_uri"):
            setattr(self, name, self.resolve(getattr(self, name)))
        return self

    def resolve(self, uri: str) -> str:
        """A relative local path against base_dir; URIs (s3://, http://) and absolute paths as they are."""
        return uri if "://" in uri else str(self.base_dir / uri)

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def vectors_dir(self) -> Path:
        return self.data_dir / "qdrant"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

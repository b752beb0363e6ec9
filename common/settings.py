"""The one settings object. Every environment variable the platform reads is declared here.

Unset service URLs mean "use the embedded default": pgserver for Postgres, Qdrant Edge for the
vector index, a local folder for objects, a local Ray. Set, they point at real servers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_TOKEN_CHARS = 32  # admin token and API keys


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
    llm_api_key: SecretStr | None = Field(
        default=None,
        description=(
            "The key the model app (`helio-llm`, models/llm_ingress.py) requires; the router presents "
            "it. Set it on every node of a GPU cluster."
        ),
    )
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token the /admin endpoints require, at least 32 characters. Unset: `make run` makes "
            "one under data_dir and prints where; elsewhere the admin endpoints answer 503."
        ),
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description=(
            "The API keys of the applications calling /store/… (`storefront=KEY,backoffice=KEY2`), each "
            "at least 32 characters; their quotas are the router's `limits.callers`."
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
    medusa_url: str | None = Field(
        default=None,
        description="Base URL of the storefront's Medusa server; unset leaves the storefront jobs idle.",
    )
    medusa_admin_email: str | None = Field(
        default=None, description="The Medusa admin user the storefront jobs sign in as."
    )
    medusa_admin_password: SecretStr | None = Field(default=None, description="… and its password.")
    medusa_timeout_s: float = Field(default=30.0, gt=0, description="Per-request timeout towards Medusa.")
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

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        # A short token falls to guessing; the admin API can run any job.
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return token

    @field_validator("api_keys")
    @classmethod
    def _named_long_keys(cls, keys: SecretStr | None) -> SecretStr | None:
        if keys is not None:
            parse_caller_keys(keys.get_secret_value())
        return keys

    def caller_keys(self) -> dict[str, str]:
        """Each calling application's name and API key (API_KEYS)."""
        return parse_caller_keys(self.api_keys.get_secret_value()) if self.api_keys else {}

    @model_validator(mode="after")
    def _paths_from_base_dir(self) -> Settings:
        self.data_dir = self.base_dir / self.data_dir  # an absolute data_dir stays as it is
        for name in ("feeds_uri", "docs_uri", "tariffs_source", "irradiance_uri"):
            setattr(self, name, self.resolve(getattr(self, name)))
        return self

    def without_secrets(self) -> Settings:
        """A copy to hand to another process as an argument (Serve's bind arguments and actor arguments
        show in `serve status` and the dashboard): every secret unset and no password in the database
        URL. That process reads them from its own environment: `with_secrets_from_environment`."""
        unset = {name: None for name, value in self if isinstance(value, SecretStr)}
        return self.model_copy(update={**unset, "database_url": without_password(self.database_url)})

    def with_secrets_from_environment(self) -> Settings:
        """The secrets this copy lacks, from this process's environment (and `.env`); the database URL's
        password too when the environment's URL is this one with a password."""
        environment = type(self)()
        update: dict[str, object] = {
            name: value
            for name, value in environment
            if isinstance(value, SecretStr) and getattr(self, name) is None
        }
        if environment.database_url and without_password(environment.database_url) == self.database_url:
            update["database_url"] = environment.database_url
        return self.model_copy(update=update)

    def resolve(self, uri: str) -> str:
        """A relative local path against base_dir; URIs (s3://, http://) and absolute paths as they are."""
        return uri if "://" in uri else str(self.base_dir / uri)

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def vectors_dir(self) -> Path:
        return self.data_dir / "qdrant"


def parse_caller_keys(text: str) -> dict[str, str]:
    """`name=key,name=key` → {name: key}; ValueError naming the entry (never the key) when malformed."""
    keys: dict[str, str] = {}
    for number, entry in enumerate(filter(None, (part.strip() for part in text.split(","))), start=1):
        name, _, key = entry.partition("=")
        name, key = name.strip(), key.strip()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name):
            raise ValueError(f"API_KEYS entry {number}: expected name=key with a lowercase name")
        if len(key) < MIN_TOKEN_CHARS:
            raise ValueError(f"API_KEYS: the key of {name!r} must be at least {MIN_TOKEN_CHARS} characters")
        if name in keys or key in keys.values():
            raise ValueError(f"API_KEYS: {name!r} is named twice or shares its key")
        keys[name] = key
    return keys


def without_password(dsn: str | None) -> str | None:
    """A Postgres DSN (URL or key=value form) without its password; libpq then takes it from PGPASSWORD
    or ~/.pgpass where the environment does not give the whole URL."""
    if dsn is None:
        return None
    if "://" not in dsn:
        return re.sub(r"\s*\bpassword\s*=\s*\S+", "", dsn)
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

"""One source of truth for the embedded services: relative paths resolve against one base dir, a missing
feed source is an error naming it, and a job finds the local stack's Ray through what the stack publishes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from catalog.feeds import load_feeds
from common.embedded import running_stack_address, stack_env, stack_file
from common.settings import PROJECT_ROOT, Settings
from common.storage import object_store
from ray_jobs.catalog_etl import NoFeedFiles, parsed_feeds
from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig


def test_relative_paths_resolve_against_the_base_dir(tmp_path: Path) -> None:
    settings = Settings(base_dir=tmp_path, feeds_uri="feeds", docs_uri="s3://bucket/docs")
    assert settings.data_dir == tmp_path / ".data"
    assert settings.feeds_uri == str(tmp_path / "feeds")
    assert settings.docs_uri == "s3://bucket/docs"  # URIs stay as they are
    assert settings.tariffs_source == str(tmp_path / "solar" / "data" / "tarifas-amostra.csv")
    assert Settings(base_dir=tmp_path, data_dir=Path("/srv/ysh")).data_dir == Path("/srv/ysh")
    assert object_store("other/feeds", settings).root == str(tmp_path / "other" / "feeds")


def test_the_default_base_dir_is_the_checkout() -> None:
    assert Settings().feeds_uri == str(PROJECT_ROOT / "sample_feeds")


def test_a_missing_source_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        object_store(str(tmp_path / "nowhere"), Settings()).list_files()


def test_a_source_without_feed_files_says_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a feed")
    feeds = load_feeds(Settings().feeds_config)
    with pytest.raises(NoFeedFiles, match=r"no feed file in .*greenvolt/\*\.csv.*found 1 other files"):
        parsed_feeds(feeds, object_store(str(tmp_path), Settings()))


def test_a_job_finds_the_stack_ray_only_while_it_answers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u@/db?host=/tmp")
    assert running_stack_address(settings) is None  # nothing published
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        stack_file(settings).write_text(json.dumps({"ray_address": address}))
        assert running_stack_address(settings) == address
    assert running_stack_address(settings) is None  # published, but gone


def test_the_stack_publishes_absolute_paths_and_its_database(tmp_path: Path) -> None:
    settings = Settings(base_dir=tmp_path, database_url="postgresql://u@/db?host=/tmp")
    assert stack_env(settings) == {
        "BASE_DIR": str(tmp_path),
        "DATA_DIR": str(tmp_path / ".data"),
        "DATABASE_URL": "postgresql://u@/db?host=/tmp",
    }


def test_the_shipped_serve_app_reserves_what_its_replicas_declare() -> None:
    """The local Ray gets this many logical CPUs on top of the machine's cores (README: one Ray)."""
    config = SearchAppConfig.from_yaml(DEFAULT_SERVE_CONFIG)
    # Router 1 (holding the query encoder and composing kits) and chat model 0.5; neither the embedder nor
    # the kit composer has replicas of its own.
    assert config.reserved_cpus() == pytest.approx(1 + 0.5)
    deployed = config.model_copy(
        update={
            "query_embedder": config.query_embedder.model_copy(update={"placement": "deployment"}),
            "kit_composer": config.kit_composer.model_copy(update={"placement": "deployment"}),
        }
    )
    assert deployed.reserved_cpus() == pytest.approx(1 + 0.5 + 1 + 0.5)

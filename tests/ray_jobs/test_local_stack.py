"""`make run`'s admin token: ADMIN_TOKEN wins; otherwise one is made once, private, and reused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from common.settings import Settings
from ray_jobs.local_stack import with_admin_token


def test_a_configured_token_is_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=SecretStr("from-the-environment-0123456789abcdef"))
    assert with_admin_token(settings) is settings
    assert not (tmp_path / "admin-token").exists()


def test_a_local_token_is_made_once_and_only_the_owner_can_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    first = with_admin_token(Settings(data_dir=tmp_path / "data"))
    second = with_admin_token(Settings(data_dir=tmp_path / "data"))
    token = (tmp_path / "data" / "admin-token").read_text()
    assert first.admin_token is not None and second.admin_token is not None
    assert first.admin_token.get_secret_value() == second.admin_token.get_secret_value() == token
    assert len(token) >= 32
    assert stat.S_IMODE((tmp_path / "data" / "admin-token").stat().st_mode) == 0o600
    # The API's replicas read secrets from the environment Ray starts with, never from their arguments.
    assert os.environ["ADMIN_TOKEN"] == token

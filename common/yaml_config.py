"""Typed component configs that load from YAML (job configs, the chat chain)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel


class YamlConfig(BaseModel):
    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        """The config in `path`; an empty file gives the defaults."""
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

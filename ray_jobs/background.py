"""The loop of a long-lived actor (the change-stream consumers, the index syncer), run in a thread so the
actor answers `status` and `stop` while it works."""

from __future__ import annotations

import logging
import threading

from common.embedded import named_actor, stop_named_actor

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Subclasses implement `_serve` (run until `_stopping` is set) and call `_start_loop` last in their
    constructor. A failure (the broker, Postgres or the index away) is logged, kept as `_last_error` for
    `status`, and `_serve` runs again after `retry_s`: what was not committed is read again then."""

    def __init__(self, name: str, retry_s: float) -> None:
        self._name, self._retry_s = name, retry_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _start_loop(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        raise NotImplementedError

    @property
    def _running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let the loop finish what it has in hand, then return."""
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve()
            except Exception as error:
                log.exception("%s failed; again in %.0f s", self._name, self._retry_s)
                with self._lock:
                    self._last_error = f"{type(error).__name__}: {error}"
                self._stopping.wait(self._retry_s)


def stop_or_show(name: str, command: str) -> int:
    """The `stop` and `status` commands of a long-lived actor's command line; its exit code."""
    import ray

    if command == "stop":
        print(f"{name} stopped" if stop_named_actor(name) else f"{name} was not running")
        return 0
    handle = named_actor(name)
    if handle is None:
        print(f"{name} is not running")
        return 1
    print(ray.get(handle.status.remote()).model_dump_json(indent=2))
    return 0

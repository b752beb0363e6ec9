"""The pure rules of ERP sync: which update wins, when and how long to retry, how far a watermark moves,
what identifies an order towards the ERP."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

IDEMPOTENCY_NAMESPACE = uuid.UUID("5c1f0a7e-93d2-4b8e-a6f1-2e4d7b9c0a13")


def is_newer(stored_version: int | None, incoming_version: int) -> bool:
    """An update applies only when its version is above the stored one: a duplicate (equal) or an
    out-of-order (older) update is a no-op, so re-reading a page or replaying a topic changes nothing."""
    return stored_version is None or incoming_version > stored_version


def is_retryable_status(status_code: int) -> bool:
    """5xx and 429 may pass on a retry; any other 4xx is the request's fault and will fail again."""
    return status_code == 429 or 500 <= status_code <= 599


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, jitter: float) -> float:
    """Seconds to wait before retry number `attempt` (0-based): exponential, capped, with "equal jitter"
    (half fixed, half random, `jitter` in [0, 1)) so clients retrying together spread out but never
    retry at once."""
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter is a fraction in [0, 1)")
    ceiling = min(cap_s, base_s * 2**attempt)
    return ceiling / 2 + ceiling / 2 * jitter


def advance_watermark(current: datetime | None, seen: Iterable[datetime]) -> datetime | None:
    """The `updated_since` to resume from: the newest `updated_at` seen, never moving back (an
    out-of-order page holds older items). The ERP filters `updated_at >= updated_since`, inclusive,
    so items sharing the watermark's instant are read again on resume rather than lost; reading them
    twice is harmless (`is_newer`)."""
    newest = max(seen, default=None)
    if newest is None:
        return current
    return newest if current is None or newest > current else current


def idempotency_key(kind: str, *parts: str) -> str:
    """The same platform fact always gets the same key, so a retried or replayed request is one ERP
    record (uuid5: stable across processes and hosts)."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, "\x1f".join((kind, *parts))))

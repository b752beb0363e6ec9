"""ERP change-stream messages (Kafka key and value bytes) as `ChangeEvent`s.

Values are JSON: either the record itself (an upsert), or a Debezium change envelope
(`before`/`after`/`op`/`source`), bare or inside the `{"schema": …, "payload": …}` wrapper of Kafka
Connect's JSON converter with schemas enabled. Keys are the record's key: text, or JSON (wrapped or
not), kept as canonical JSON so the same key always reads the same.

The version that orders a key's events is the record's `version` field, else Debezium's `source.lsn`
(the database log position, monotonic per source). A message with neither cannot be ordered against
the others, so it is refused rather than applied.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Op = Literal["c", "u", "d", "r"]
_OPS: dict[str, Op] = {"c": "c", "u": "u", "d": "d", "r": "r"}


class ChangeEventError(ValueError):
    """The message cannot become a change event; the text is the dead letter's reason."""


class ChangeEvent(BaseModel, frozen=True):
    topic: str
    key: str = Field(description="The record's key: text, or canonical JSON for a JSON key.")
    op: Op = Field(description="Debezium's c(reate), u(pdate), d(elete), r(ead: snapshot); plain values: u.")
    after: dict[str, Any] | None = Field(description="The record after the change; None for a delete.")
    before: dict[str, Any] | None = Field(description="The record before, when the source sends it.")
    version: int = Field(ge=0, description="The record's `version`, else the source's log position (LSN).")

    @property
    def is_delete(self) -> bool:
        return self.op == "d"


def parse_change(topic: str, key: bytes | None, value: bytes | None) -> ChangeEvent | None:
    """The message's change event; None for a tombstone (a null value, which Debezium writes after
    each delete for log compaction: the delete itself came just before it). Raises ChangeEventError."""
    if value is None:
        return None
    document = _unwrap(_json(value, "value"))
    if document is None:
        return None  # a tombstone through the JSON converter with schemas: {"schema": …, "payload": null}
    if not isinstance(document, dict):
        raise ChangeEventError(f"value is JSON {type(document).__name__}, not an object")
    if "op" in document and ("after" in document or "before" in document):
        op, after, before, source = _envelope(document)
    else:
        op, after, before, source = "u", document, None, {}
    return ChangeEvent(
        topic=topic,
        key=_key(key),
        op=op,
        after=after,
        before=before,
        version=_version(after if after is not None else before, source),
    )


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ChangeEventError(f"{what} is not UTF-8: {error}") from error
    except json.JSONDecodeError as error:
        raise ChangeEventError(f"{what} is not JSON: {error}") from error


def _unwrap(document: Any) -> Any:
    """The payload of the JSON converter's schema wrapper; anything else as it is."""
    if isinstance(document, dict) and document.keys() == {"schema", "payload"}:
        return document["payload"]
    return document


def _envelope(
    document: dict[str, Any],
) -> tuple[Op, dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    op = _OPS.get(document["op"]) if isinstance(document["op"], str) else None
    if op is None:
        # "t" (truncate) and "m" (logical message) carry no record to apply
        raise ChangeEventError(f"unsupported Debezium op {document['op']!r}")
    after, before, source = document.get("after"), document.get("before"), document.get("source") or {}
    for name, part in (("after", after), ("before", before), ("source", source)):
        if part is not None and not isinstance(part, dict):
            raise ChangeEventError(f"Debezium {name} is {type(part).__name__}, not an object")
    if op == "d":
        if before is None:
            raise ChangeEventError("Debezium delete without `before`: no record to delete")
        after = None
    elif after is None:
        raise ChangeEventError(f"Debezium op {op!r} without `after`")
    return op, after, before, source


def _version(record: dict[str, Any] | None, source: dict[str, Any]) -> int:
    for name, value in (("version", (record or {}).get("version")), ("source.lsn", source.get("lsn"))):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ChangeEventError(f"{name} is {value!r}, not a non-negative integer")
        return value
    raise ChangeEventError("no version: the record has no `version` and the envelope no `source.lsn`")


def _key(raw: bytes | None) -> str:
    if raw is None:
        raise ChangeEventError("message without a key: its record cannot be identified")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ChangeEventError(f"key is not UTF-8: {error}") from error
    try:
        document = _unwrap(json.loads(text))
    except json.JSONDecodeError:
        document = text  # a plain text key, e.g. an order id
    if document is None or document == "":
        raise ChangeEventError("message with an empty key: its record cannot be identified")
    if isinstance(document, str):
        return document
    return json.dumps(document, sort_keys=True, separators=(",", ":"))

"""A stand-in for the ERP API (the real ERP is proprietary and cannot run here), following
deploy/erp-openapi.yaml: its own state, and faults to inject.

Faults (set on `ErpSimulator.faults`, each consumed as it fires):
- `errors`: the next N requests answer `error_status` (500 by default; 429 and 4xx work too);
- `down_after`: after N more requests, every request answers 503 (the ERP went down mid-sync);
- `slow`: the next N requests wait `slow_s` before answering (past the client's timeout);
- `accept_then_fail`: the next N order creations store the order, then answer 500 (the reply is lost);
- `duplicate_pages`: every page after the first is first served as a repeat of the one before it;
- `out_of_order`: every page also carries an older version of a record it holds.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from erp.records import ErpOrder, HomologacaoCheck

EPOCH = datetime(2026, 11, 1, 9, tzinfo=UTC)
Since = Annotated[datetime | None, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]


@dataclass
class Faults:
    errors: int = 0
    down_after: int | None = None
    error_status: int = 500
    slow: int = 0
    slow_s: float = 2.0
    accept_then_fail: int = 0
    duplicate_pages: bool = False
    out_of_order: bool = False


@dataclass
class ErpSimulator:
    token: str
    faults: Faults = field(default_factory=Faults)
    # listing → record key → every version served so far, oldest first
    history: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    created: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key → ERP order
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key → check
    requests: list[str] = field(default_factory=list)  # "GET /products", … in arrival order
    clock: datetime = EPOCH
    _served_twice: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.faults = Faults()
            self.history, self.created, self.checks, self.requests = {}, {}, {}, []
            self.clock, self._served_twice = EPOCH, set()

    def put(self, listing: str, key: str, record: dict[str, Any]) -> dict[str, Any]:
        """A change in the ERP: the record's next version, stamped one second after the last change."""
        with self._lock:
            self.clock += timedelta(seconds=1)
            versions = self.history.setdefault(listing, {}).setdefault(key, [])
            version = versions[-1]["version"] + 1 if versions else 1
            stored = {**record, "updated_at": self.clock.isoformat(), "version": version}
            versions.append(stored)
            return stored

    def put_product(
        self, distributor: str, sku: str, *, stock: int, prices: dict[str, str]
    ) -> dict[str, Any]:
        record = {
            "distributor": distributor,
            "sku": sku,
            "stock": stock,
            "prices": [{"price_list": name, "price_brl": brl} for name, brl in prices.items()],
        }
        return self.put("products", f"{distributor}/{sku}", record)

    def listing(self, listing: str, since: datetime | None, cursor: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            latest = [versions[-1] for versions in self.history.get(listing, {}).values()]
            changed = sorted(
                (r for r in latest if since is None or datetime.fromisoformat(r["updated_at"]) >= since),
                key=lambda r: r["updated_at"],
            )
            start = int(cursor or 0)
            if self.faults.duplicate_pages and start and (listing, cursor or "") not in self._served_twice:
                self._served_twice.add((listing, cursor or ""))
                return {"items": changed[max(start - limit, 0) : start], "next_cursor": cursor}
            items = changed[start : start + limit]
            if self.faults.out_of_order:
                items = items + [
                    self._older(listing, record) for record in items[:1] if record["version"] > 1
                ]
            more = start + limit < len(changed)
            return {"items": items, "next_cursor": str(start + limit) if more else None}

    def _older(self, listing: str, record: dict[str, Any]) -> dict[str, Any]:
        key = next(k for k, versions in self.history[listing].items() if versions[-1] is record)
        return self.history[listing][key][-2]

    def create_order(self, key: str, order: ErpOrder) -> dict[str, Any]:
        with self._lock:
            if key in self.created:
                return self.created[key]
            erp_order_id = f"ERP-{len(self.created) + 1}"
            self.created[key] = {"order_id": order.order_id, "erp_order_id": erp_order_id}
            # the ERP keeps the order at the platform's version; its own changes come after it
            self.clock += timedelta(seconds=1)
            accepted = {**order.model_dump(mode="json"), "erp_order_id": erp_order_id}
            self.history.setdefault("orders", {})[order.order_id] = [
                {**accepted, "updated_at": self.clock.isoformat()}
            ]
            return self.created[key]

    def next_fault(self) -> tuple[int | None, float]:
        """The error status and delay the next request gets, consuming them."""
        with self._lock:
            status, delay = None, 0.0
            if self.faults.down_after is not None:
                if self.faults.down_after == 0:
                    return 503, 0.0
                self.faults.down_after -= 1
            if self.faults.errors:
                self.faults.errors -= 1
                status = self.faults.error_status
            if self.faults.slow:
                self.faults.slow -= 1
                delay = self.faults.slow_s
            return status, delay


def create_app(sim: ErpSimulator) -> FastAPI:
    app = FastAPI(title="ERP simulator")

    async def faults(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        sim.requests.append(f"{request.method} {request.url.path}")
        status, delay = sim.next_fault()
        if delay:
            await asyncio.sleep(delay)
        if status is not None:
            raise HTTPException(status, "injected fault")
        if authorization != f"Bearer {sim.token}":
            raise HTTPException(401, "missing or wrong bearer token")

    Checked = Depends(faults)

    @app.get("/products", dependencies=[Checked])
    def list_products(updated_since: Since = None, cursor: str | None = None, limit: Limit = 200) -> Any:
        return sim.listing("products", updated_since, cursor, limit)

    @app.get("/orders", dependencies=[Checked])
    def list_orders(updated_since: Since = None, cursor: str | None = None, limit: Limit = 200) -> Any:
        return sim.listing("orders", updated_since, cursor, limit)

    @app.get("/homologacao", dependencies=[Checked])
    def list_homologacao(updated_since: Since = None, cursor: str | None = None, limit: Limit = 200) -> Any:
        return sim.listing("homologacao", updated_since, cursor, limit)

    @app.post("/orders", dependencies=[Checked])
    def create_order(order: ErpOrder, idempotency_key: Annotated[str, Header()]) -> Any:
        created = sim.create_order(idempotency_key, order)
        if sim.faults.accept_then_fail:
            sim.faults.accept_then_fail -= 1
            return JSONResponse({"detail": "injected fault after the order was stored"}, status_code=500)
        return created

    @app.post("/orders/{order_id}/homologacao-checks", dependencies=[Checked])
    def create_homologacao_check(
        order_id: str, check: HomologacaoCheck, idempotency_key: Annotated[str, Header()]
    ) -> Any:
        if check.order_id != order_id:
            raise HTTPException(422, "the check names another order")
        stored = sim.checks.setdefault(
            idempotency_key, {"check_id": f"CHK-{len(sim.checks) + 1}", **check.model_dump()}
        )
        return {"check_id": stored["check_id"]}

    return app

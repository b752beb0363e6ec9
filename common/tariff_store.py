"""ANEEL tariff tables in Postgres: store parsed rows once, keep rejects, replace the derived residential
tariffs, read a utility's residential tariff on a date. Keyword-only, like `common.catalog_store`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel

from common.rejects import keep_rejects, rejected_line
from solar.tariffs import RejectedTariffRow, ResidentialTariff, TariffRow

_ROW_FIELDS = (
    "generated_on", "reh", "agent", "cnpj", "valid_from", "valid_to", "tariff_base", "subgroup", "modality",
    "consumer_class", "subclass", "detail", "time_slot", "unit", "accessing_agent", "tusd", "te",
)  # fmt: skip
_TABLE_COLUMNS = (
    "row_hash", "generated_on", "reh", "sigla", "cnpj", "valid_from", "valid_to", "tariff_base", "subgroup",
    "modality", "consumer_class", "subclass", "detail", "time_slot", "unit", "accessing_agent", "tusd", "te",
    "source", "line",
)  # fmt: skip


SCHEMA = "tariffs.sql"  # applied by `postgres.migrate(conn, SCHEMA)`


class UpsertCounts(BaseModel):
    accepted: int
    new: int

    @property
    def unchanged(self) -> int:
        return self.accepted - self.new


def row_hash(row: TariffRow) -> str:
    """The natural key: the 17 published fields as parsed (so `1.234,5` and `1234,5` are one row)."""
    text = "\x1f".join(str(getattr(row, name)) for name in _ROW_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upsert_tariff_rows(
    conn: psycopg.Connection[Any], *, rows: Iterable[TariffRow], source: str, run_id: int
) -> UpsertCounts:
    """Stream rows through COPY into a temporary table, then insert those not stored yet, in one
    transaction. `rows` may be a generator: nothing is held in Python beyond one row."""
    accepted = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE tariff_batch (LIKE aneel_tariffs INCLUDING DEFAULTS) ON COMMIT DROP")
        columns = ", ".join(_TABLE_COLUMNS)
        with cur.copy(f"COPY tariff_batch ({columns}) FROM STDIN") as copy:
            for row in rows:
                accepted += 1
                copy.write_row(
                    (
                        row_hash(row),
                        *(getattr(row, name) for name in _ROW_FIELDS),
                        source,
                        row.line,
                    )
                )
        cur.execute(
            f"""
            INSERT INTO aneel_tariffs ({columns}, first_seen_run)
            SELECT {columns}, %s FROM tariff_batch
            ON CONFLICT (row_hash) DO NOTHING
            """,
            (run_id,),
        )
        new = max(cur.rowcount, 0)
    return UpsertCounts(accepted=accepted, new=new)


def record_tariff_rejects(
    conn: psycopg.Connection[Any], *, rejects: Sequence[RejectedTariffRow], source: str, run_id: int
) -> int:
    """Keep each rejected tariff row with its reason, once; returns how many rejects are new."""
    rows = [{"source": source, **rejected_line(r.line, r.raw, r.reason, run_id)} for r in rejects]
    return keep_rejects(conn, "tariff_rejects", rows, conflict=("source", "line", "raw_hash", "reason"))


def replace_residential_tariffs(
    conn: psycopg.Connection[Any], *, tariffs: Iterable[ResidentialTariff], derived_on: date
) -> int:
    """The derivation for `derived_on` replaces the previous one for that date; returns the rows written."""
    rows = [
        (t.cnpj, derived_on, t.agent, t.reh, t.valid_from, t.valid_to, t.tusd_brl_kwh, t.te_brl_kwh,
         t.tariff_brl_kwh)
        for t in tariffs
    ]  # fmt: skip
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("DELETE FROM residential_tariffs WHERE derived_on = %s", (derived_on,))
        cur.executemany(
            """
            INSERT INTO residential_tariffs (cnpj, derived_on, sigla, reh, valid_from, valid_to,
                                             tusd_brl_kwh, te_brl_kwh, tariff_brl_kwh)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            rows,
        )
    return len(rows)


def residential_tariff(
    conn: psycopg.Connection[Any], *, on: date, cnpj: str | None = None, sigla: str | None = None
) -> ResidentialTariff | None:
    """The derived residential tariff of a utility (by CNPJ, or by sigla) in force on `on`, from the most
    recent derivation that covers that date; None when none does."""
    if (cnpj is None) == (sigla is None):
        raise ValueError("give exactly one of cnpj or sigla")
    key, value = ("cnpj", cnpj) if cnpj is not None else ("upper(sigla)", (sigla or "").upper())
    row = conn.execute(
        f"""
        SELECT cnpj, sigla, reh, valid_from, valid_to, tusd_brl_kwh, te_brl_kwh
          FROM residential_tariffs
         WHERE {key} = %s AND valid_from <= %s AND %s <= valid_to
         ORDER BY derived_on DESC, valid_from DESC
         LIMIT 1
        """,
        (value, on, on),
    ).fetchone()
    return None if row is None else _residential(row)


def residential_tariffs_in_force(conn: psycopg.Connection[Any], *, on: date) -> dict[str, ResidentialTariff]:
    """Every utility's residential tariff in force on `on` (from the most recent derivation covering it)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            SELECT DISTINCT ON (cnpj) cnpj, sigla, reh, valid_from, valid_to, tusd_brl_kwh, te_brl_kwh
              FROM residential_tariffs
             WHERE valid_from <= %s AND %s <= valid_to
             ORDER BY cnpj, derived_on DESC, valid_from DESC
            """,
            (on, on),
        ).fetchall()
    return {tariff.cnpj: tariff for tariff in map(_residential, rows)}


def _residential(values: dict[str, Any]) -> ResidentialTariff:
    return ResidentialTariff(
        cnpj=values["cnpj"],
        agent=values["sigla"],
        reh=values["reh"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        tusd_brl_kwh=values["tusd_brl_kwh"],
        te_brl_kwh=values["te_brl_kwh"],
    )

"""The tariffs job end to end against the real Postgres: the shipped sample (real ANEEL format) from a
folder and from S3 (moto), idempotent re-runs, rejects with reasons, the derived residential tariff.
The job streams in the driver (no Ray), so these tests need no Ray session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from common import postgres, tariff_store
from common.resources import Resources
from common.settings import Settings
from ray_jobs import tariffs as job
from ray_jobs.tariffs import TariffsJobConfig, TariffsReport, run
from solar.parameters import DATA_DIR
from tests.conftest import S3

SAMPLE = DATA_DIR / "tarifas-amostra.csv"
SAMPLE_ROWS = sum(1 for line in SAMPLE.read_bytes().splitlines()[1:] if line.strip())
CEMIG = "06981180000116"
ON = date(2026, 9, 1)


def load(settings: Settings, source: str | Path, on: date = ON) -> TariffsReport:
    return run(TariffsJobConfig(source=str(source), on=on), Resources(settings))


def scalar(settings: Settings, sql: str) -> int:
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_the_sample_loads_and_a_second_run_writes_nothing(fresh_settings: Settings) -> None:
    first = load(fresh_settings, SAMPLE)
    assert (first.read, first.accepted, first.rejected) == (SAMPLE_ROWS, SAMPLE_ROWS, 0)
    assert first.new == SAMPLE_ROWS and first.unchanged == 0 and first.changed
    assert first.utilities >= 10
    assert scalar(fresh_settings, "SELECT count(*) FROM aneel_tariffs") == SAMPLE_ROWS
    assert scalar(fresh_settings, "SELECT count(*) FROM residential_tariffs") == first.utilities

    second = load(fresh_settings, SAMPLE)
    assert (second.new, second.unchanged, second.rejects_new) == (0, SAMPLE_ROWS, 0)
    assert not second.changed
    assert second.utilities == first.utilities
    assert scalar(fresh_settings, "SELECT count(*) FROM aneel_tariffs") == SAMPLE_ROWS
    assert scalar(fresh_settings, "SELECT count(*) FROM residential_tariffs") == first.utilities
    assert (
        scalar(fresh_settings, "SELECT count(*) FROM job_runs WHERE job = 'tariffs' AND status = 'succeeded'")
        == 2
    )
    # The numbers every job reports (the scheduler's history reads them): the second run wrote nothing.
    with postgres.connect(fresh_settings.database_url or "") as conn:
        counts = [
            {key: row["counts"][key] for key in ("read", "accepted", "written", "rejected")}
            for row in conn.execute("SELECT counts FROM job_runs WHERE job = 'tariffs' ORDER BY id")
        ]
    assert counts == [
        {"read": SAMPLE_ROWS, "accepted": SAMPLE_ROWS, "written": SAMPLE_ROWS, "rejected": 0},
        {"read": SAMPLE_ROWS, "accepted": SAMPLE_ROWS, "written": 0, "rejected": 0},
    ]


def test_the_derived_tariff_is_tusd_plus_te_of_its_row(fresh_settings: Settings) -> None:
    load(fresh_settings, SAMPLE)
    # line 3 of the sample: CEMIG-D, Tarifa de Aplicação, B1 residencial, 2026-05-28 … 2027-05-27
    tusd, te = 497.53, 290.12
    with postgres.connect(fresh_settings.database_url or "") as conn:
        by_cnpj = tariff_store.residential_tariff(conn, cnpj=CEMIG, on=ON)
        by_sigla = tariff_store.residential_tariff(conn, sigla="cemig-d", on=ON)
        outside = tariff_store.residential_tariff(conn, cnpj=CEMIG, on=date(2030, 1, 1))
        in_force = tariff_store.residential_tariffs_in_force(conn, on=ON)
        none_in_force = tariff_store.residential_tariffs_in_force(conn, on=date(2030, 1, 1))
    assert by_cnpj is not None and by_cnpj == by_sigla
    assert len(in_force) >= 10 and in_force[CEMIG] == by_cnpj
    assert none_in_force == {}
    assert by_cnpj.tariff_brl_kwh == pytest.approx((tusd + te) / 1000)
    assert by_cnpj.tusd_brl_kwh == pytest.approx(tusd / 1000)  # the TUSD share, for Fio B
    assert by_cnpj.valid_from == date(2026, 5, 28)
    assert outside is None


def test_bad_rows_go_to_rejects_with_their_reason_and_the_rest_loads(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    good = lines[1].decode("utf-8")
    bad = [
        good.replace('"472,65"', '"472.6x"').encode(),  # VlrTUSD not a number
        good.replace('"2025-05-28"', '"28/05/2025"').encode(),  # date not ISO
        good.replace(';"281,42"', "").encode(),  # a column missing
        b'"2026-11-20";"REH";"\xff\xfe";' + b";".join([b'"x"'] * 14) + b"\r\n",  # not UTF-8
    ]
    edited = tmp_path / "tarifas.csv"
    edited.write_bytes(b"".join(lines[:5] + bad + lines[5:]))

    report = load(fresh_settings, edited)
    assert (report.accepted, report.rejected, report.rejects_new) == (SAMPLE_ROWS, 4, 4)
    with psycopg.connect(fresh_settings.database_url or "") as conn:
        stored = conn.execute("SELECT line, reason FROM tariff_rejects ORDER BY line").fetchall()
    assert [line for line, _ in stored] == [6, 7, 8, 9]
    reasons = [reason for _, reason in stored]
    assert "VlrTUSD" in reasons[0] and "DatInicioVigencia" in reasons[1]
    assert "columns" in reasons[2] and "UTF-8" in reasons[3]

    again = load(fresh_settings, edited)
    assert (again.rejected, again.rejects_new, again.new) == (4, 0, 0)
    assert scalar(fresh_settings, "SELECT count(*) FROM tariff_rejects") == 4


def test_main_prints_counts_and_fails_only_when_nothing_loads(
    fresh_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(job, "get_settings", lambda: fresh_settings)
    assert job.main(["--source", str(SAMPLE), "--on", ON.isoformat()]) == 0
    out = capsys.readouterr().err
    assert f"{SAMPLE_ROWS}" in out and "utilities" in out

    wrong = tmp_path / "not-aneel.csv"
    wrong.write_text('"a";"b"\n"1";"2"\n', encoding="utf-8")
    assert job.main(["--source", str(wrong)]) == 1
    assert "no row could be loaded" in capsys.readouterr().err

    assert job.main(["--source", str(tmp_path / "missing.csv")]) == 1
    assert "nothing could be loaded" in capsys.readouterr().err


def test_the_sample_from_s3(fresh_settings: Settings, s3: S3) -> None:
    client = s3.client()
    client.create_bucket(Bucket="aneel")
    client.upload_file(str(SAMPLE), "aneel", "tarifas/tarifas.csv")
    settings = s3.settings(fresh_settings)
    from_s3 = load(settings, "s3://aneel/tarifas/tarifas.csv")
    assert (from_s3.accepted, from_s3.new, from_s3.rejected) == (SAMPLE_ROWS, SAMPLE_ROWS, 0)
    local = load(settings, SAMPLE)
    assert local.new == 0  # the same rows from S3 and from disk are the same rows

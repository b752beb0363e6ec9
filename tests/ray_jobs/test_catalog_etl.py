"""The catalog ETL job end to end: real Ray Data, real Postgres, feeds from a folder and from S3."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from common.resources import Resources
from common.settings import Settings
from ray_jobs.catalog_etl import CatalogEtlConfig, EtlReport, run
from tests.conftest import S3

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


def etl(settings: Settings, source: str | Path) -> EtlReport:
    return run(CatalogEtlConfig(source=str(source), feeds_config=settings.feeds_config), Resources(settings))


def scalar(settings: Settings, sql: str) -> int:
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_first_run_loads_every_distributor_and_keeps_rejects(
    fresh_settings: Settings, small_feeds: Path
) -> None:
    report = etl(fresh_settings, small_feeds)
    assert report.changed
    assert len(report.per_distributor) == 5
    for distributor, row in report.per_distributor.items():
        assert row["read"] == row["accepted"] + row["rejected"], distributor
        assert row["new"] == row["accepted"], distributor
        assert row["accepted"] > 0, distributor
    total_rejected = sum(row["rejected"] for row in report.per_distributor.values())
    assert total_rejected > 0
    assert scalar(fresh_settings, "SELECT count(*) FROM products") == report.products_total
    assert scalar(fresh_settings, "SELECT count(*) FROM offers") == report.accepted
    assert scalar(fresh_settings, "SELECT count(*) FROM feed_rejects") == total_rejected
    # one product sold by several distributors is one product with several offers
    assert (
        scalar(
            fresh_settings,
            "SELECT count(*) FROM (SELECT product_id FROM offers GROUP BY 1 "
            "HAVING count(DISTINCT distributor) > 1) shared",
        )
        > 0
    )
    assert (
        scalar(
            fresh_settings,
            "SELECT count(*) FROM feed_rejects WHERE reason = '' OR raw IS NULL OR line IS NULL",
        )
        == 0
    )


def test_second_run_changes_nothing_and_a_price_change_updates_one_offer(
    fresh_settings: Settings, small_feeds: Path, tmp_path: Path
) -> None:
    first = etl(fresh_settings, small_feeds)
    second = etl(fresh_settings, small_feeds)
    assert not second.changed
    assert all(row["new"] == row["updated"] == row["removed"] == 0 for row in second.per_distributor.values())
    assert sum(row["unchanged"] for row in second.per_distributor.values()) == first.accepted
    rejects_after_two_runs = scalar(fresh_settings, "SELECT count(*) FROM feed_rejects")
    assert rejects_after_two_runs == sum(row["rejected"] for row in first.per_distributor.values())

    with psycopg.connect(fresh_settings.database_url or "") as conn:
        row = conn.execute(
            "SELECT distributor, sku, source_file, price_brl::float8 FROM offers "
            "WHERE source_file LIKE '%.jsonl' AND price_brl IS NOT NULL ORDER BY sku LIMIT 1"
        ).fetchone()
    assert row is not None
    distributor, sku, source_file, price = row
    edited = tmp_path / "feeds"
    shutil.copytree(small_feeds, edited)
    feed = edited / source_file
    lines = feed.read_bytes().splitlines(keepends=True)  # bytes: the feed carries planted bad encodings
    (old,) = [line for line in lines if f'"{sku}"'.encode() in line]
    new_price = round(price + 11.11, 2)
    assert old.count(repr(price).encode()) == 1
    new = old.replace(repr(price).encode(), repr(new_price).encode())
    feed.write_bytes(b"".join(new if line == old else line for line in lines))

    third = etl(fresh_settings, edited)
    updated = {d: r["updated"] for d, r in third.per_distributor.items() if r["updated"]}
    assert updated == {distributor: 1}
    with psycopg.connect(fresh_settings.database_url or "") as conn:
        stored = conn.execute(
            "SELECT price_brl::float8 FROM offers WHERE distributor = %s AND sku = %s", (distributor, sku)
        ).fetchone()
    assert stored == (new_price,)


def test_an_unreadable_file_is_rejected_whole_and_the_other_feeds_go_on(
    fresh_settings: Settings, small_feeds: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "feeds"
    shutil.copytree(small_feeds, edited)
    xlsx = next(edited.rglob("*.xlsx"))
    xlsx.write_bytes(b"PK\x03\x04 this is not a workbook")
    report = etl(fresh_settings, edited)
    with psycopg.connect(fresh_settings.database_url or "") as conn:
        whole_file = conn.execute(
            "SELECT distributor, reason FROM feed_rejects WHERE line = 0 AND source_file = %s",
            (str(xlsx.relative_to(edited)),),
        ).fetchall()
    assert len(whole_file) == 1
    broken = whole_file[0][0]
    assert whole_file[0][1].startswith("unreadable_file")
    others = {d: row for d, row in report.per_distributor.items() if d != broken}
    assert len(others) == 4
    assert all(row["accepted"] > 0 for row in others.values())


def test_feeds_from_s3(fresh_settings: Settings, small_feeds: Path, s3: S3) -> None:
    client = s3.client()
    client.create_bucket(Bucket="feeds")
    for path in small_feeds.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), "feeds", f"daily/{path.relative_to(small_feeds).as_posix()}")
    settings = s3.settings(fresh_settings)
    from_s3 = etl(settings, "s3://feeds/daily")
    local = etl(fresh_settings, small_feeds)
    assert from_s3.accepted > 0
    assert not local.changed  # the same feeds read from S3 and from disk give the same catalog

"""The sample feed generator: reproducible bytes, every format and defect, overlaps across distributors."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from catalog.feeds import FEEDS_FILE, files_for, load_feeds
from catalog.identity import product_id
from catalog.parsing import parse_feed_file
from kernel.schemas import CATEGORIES, FeedRecord, RejectedRow
from samples.feeds import SampleManifest, write_sample
from samples.feeds.__main__ import main

# Reject reason code each planted defect must produce.
DEFECT_CODES = {
    "bad_number": "bad_value",
    "unknown_unit": "unknown_unit",
    "missing_brand": "missing_field",
    "mojibake": "bad_encoding",
    "invalid_bytes": "bad_encoding",
    "column_count": "column_count",
    "bad_json": "bad_json",
    "duplicate": "duplicate",
}


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def parse_all(root: Path) -> tuple[list[FeedRecord], list[RejectedRow], float]:
    """Every feed file under root, as the ETL reads them; also the seconds the parsing took."""
    paths = list(files_under(root))
    records: list[FeedRecord] = []
    rejects: list[RejectedRow] = []
    seconds = 0.0
    for feed in load_feeds(FEEDS_FILE):
        for path in files_for(feed, paths):
            data = (root / path).read_bytes()
            started = time.perf_counter()
            items = list(parse_feed_file(feed, path, data))
            seconds += time.perf_counter() - started
            records += [item for item in items if isinstance(item, FeedRecord)]
            rejects += [item for item in items if isinstance(item, RejectedRow)]
    return records, rejects, seconds


def sellers_by_product(records: list[FeedRecord]) -> dict[str, dict[str, FeedRecord]]:
    sellers: defaultdict[str, dict[str, FeedRecord]] = defaultdict(dict)
    for record in records:
        sellers[product_id(record.brand, record.model)][record.distributor] = record
    return sellers


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleManifest]:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out, seed=7, products=400)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", seed=3, products=120)
    write_sample(tmp_path / "b", seed=3, products=120)
    write_sample(tmp_path / "c", seed=4, products=120)
    first = files_under(tmp_path / "a")
    assert len(first) >= 8  # five distributors, some with two files, and the manifest
    assert files_under(tmp_path / "b") == first
    other = files_under(tmp_path / "c")
    assert other.keys() == first.keys()
    assert all(other[path] != data for path, data in first.items() if path != "manifest.json")


def test_feeds_land_in_one_folder_per_distributor_in_every_format(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    root, manifest = small_sample
    suffixes = {path.split("/")[0]: path.rsplit(".", 1)[1] for path in files_under(root) if "/" in path}
    assert suffixes == {
        "solar_nordeste": "csv",
        "greenvolt": "csv",
        "atlas_energia": "xlsx",
        "brightline": "jsonl",
        "kit_center": "csv",
    }
    assert b"R$ " in (root / "solar_nordeste/catalogo_produtos.csv").read_bytes()
    (root / "solar_nordeste/catalogo_produtos.csv").read_bytes().decode("latin-1").encode("latin-1")
    assert (root / "kit_center/geradores.csv").read_bytes().startswith(b"\xef\xbb\xbfTipo;")
    assert manifest.products == 400


def test_small_sample_parses_into_every_category_with_one_reject_per_planted_defect(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    root, manifest = small_sample
    records, rejects, _seconds = parse_all(root)
    assert {record.category for record in records} == set(CATEGORIES)
    for name, summary in manifest.distributors.items():
        listed = sum(summary.files.values())
        planted = sum(summary.defects.values())
        found = Counter(reject.reason.split(":")[0] for reject in rejects if reject.distributor == name)
        expected: Counter[str] = Counter()
        for kind, count in summary.defects.items():
            expected[DEFECT_CODES[kind]] += count
        assert found == expected, name
        assert sum(1 for r in records if r.distributor == name) == listed - planted
        assert planted >= 6  # every defect class this distributor shows, even in a small sample


def test_kits_list_components_that_are_products_of_the_sample(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    records, _rejects, _seconds = parse_all(small_sample[0])
    known = {product_id(r.brand, r.model) for r in records if r.category != "kit"}
    kits = [r for r in records if r.category == "kit"]
    assert {kit.distributor for kit in kits} == {"kit_center", "brightline"}
    components = [c for kit in kits for c in kit.specs["components"]]
    assert {c["category"] for c in components} >= {"module", "inverter", "structure", "string_box", "cable"}
    listed = sum(product_id(c["brand"], c["model"]) in known for c in components)
    assert listed / len(components) > 0.95  # the rest were listed only in rows given a defect


def test_the_same_product_is_sold_by_several_distributors_under_other_skus_and_titles(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    records, _rejects, _seconds = parse_all(small_sample[0])
    shared = [offers for offers in sellers_by_product(records).values() if len(offers) >= 2]
    assert len(shared) >= 40
    for offers in shared:
        listings = list(offers.values())
        assert len({r.sku for r in listings}) == len(listings)
        assert len({(r.brand, r.model, r.category) for r in listings}) == 1
    assert sum(len({r.title for r in offers.values()}) > 1 for offers in shared) == len(shared)


def test_distinct_products_match_the_manifest(small_sample: tuple[Path, SampleManifest]) -> None:
    root, manifest = small_sample
    records, _rejects, _seconds = parse_all(root)
    distinct = len(sellers_by_product(records))
    # A product disappears only when its single listing was the one given a defect.
    assert manifest.products - manifest.defects <= distinct <= manifest.products


def test_command_line_writes_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--seed", "5", "--products", "60"]) == 0
    manifest = SampleManifest.model_validate_json((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest.seed, manifest.products) == (5, 60)
    assert "60 products" in capsys.readouterr().out


@pytest.mark.slow
def test_full_default_sample(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = write_sample(tmp_path, seed=42)
    generated_in = time.perf_counter() - started
    records, rejects, parsed_in = parse_all(tmp_path)
    sellers = sellers_by_product(records)
    rows = len(records) + len(rejects)
    print(f"\nfull sample: written in {generated_in:.1f} s, {rows} rows parsed in {parsed_in:.1f} s")
    assert len(sellers) >= 11_000
    assert sum(len(offers) >= 2 for offers in sellers.values()) >= 1_500
    assert len(rejects) >= 0.01 * rows
    assert len(rejects) == manifest.defects

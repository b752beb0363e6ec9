"""The sample feed generator: reproducible bytes, every format and defect, overlaps across distributors."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from catalog.feeds import FEEDS_FILE, files_for, load_feeds
from catalog.identity import product_id
from catalog.parsing import parse_feed_file
from catalog.query import SearchParams, plan_query
from kernel.schemas import CATEGORIES, FeedRecord, RejectedRow
from samples.feeds import SampleManifest, write_sample
from samples.feeds.__main__ import main
from samples.feeds.draw import draw_products
from samples.feeds.market import SampleProduct, load_market
from samples.feeds.variants import CategoryStream, Identities

SPECS_550 = {"power_w": 550.0, "voc_v": 49.9, "isc_a": 14.0, "vmp_v": 42.0, "imp_a": 13.1}

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


def assert_one_reject_per_planted_defect(
    manifest: SampleManifest, records: list[FeedRecord], rejects: list[RejectedRow]
) -> None:
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


def test_small_sample_parses_into_every_category_with_one_reject_per_planted_defect(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    root, manifest = small_sample
    records, rejects, _seconds = parse_all(root)
    assert {record.category for record in records} == set(CATEGORIES)
    assert_one_reject_per_planted_defect(manifest, records, rejects)


def test_kits_list_components_that_are_products_of_the_sample(
    small_sample: tuple[Path, SampleManifest],
) -> None:
    root, manifest = small_sample
    records, _rejects, _seconds = parse_all(root)
    known = {product_id(r.brand, r.model) for r in records if r.category != "kit"}
    kits = [r for r in records if r.category == "kit"]
    assert {kit.distributor for kit in kits} == {"kit_center", "brightline"}
    components = [c for kit in kits for c in kit.specs["components"]]
    assert {c["category"] for c in components} >= {"module", "inverter", "structure", "string_box", "cable"}
    sampled = {product_id(p.brand, p.model) for p in draw_products(manifest.seed, manifest.products).products}
    parts = {product_id(c["brand"], c["model"]) for c in components}
    assert parts <= sampled
    # A part the parsed records lack was listed only in rows given a defect (one defect per row).
    assert len(parts - known) <= manifest.defects


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


def test_a_sample_written_in_chunks_continues_its_files_and_skus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a catalog of a million goes through, at a size a unit test affords: chunks of 150 products."""
    monkeypatch.setattr("samples.feeds.draw.CHUNK_PRODUCTS", 150)
    manifest = write_sample(tmp_path, seed=9, products=400)
    records, rejects, _seconds = parse_all(tmp_path)
    assert manifest.products == 400
    assert_one_reject_per_planted_defect(manifest, records, rejects)
    draw = draw_products(9, 400)
    assert len(list(draw.product_chunks())) == 3
    sampled = {product_id(p.brand, p.model) for p in draw.products}
    assert len(sampled) == 400
    assert {product_id(r.brand, r.model) for r in records} <= sampled
    offers = draw.offers()  # one pass over every product: the SKUs the chunks wrote, in that order
    assert {r.sku for r in records if r.distributor == "kit_center"} <= {o.sku for o in offers["kit_center"]}


def test_today_s_550_w_module_reads_back_as_550_w(small_sample: tuple[Path, SampleManifest]) -> None:
    """The ETL's parser reads a generated module of today's lines (current.yaml) back at its power, from its
    specs and from its title, and "painel 550W" asks for it."""
    root, manifest = small_sample
    generated = {
        product_id(p.brand, p.model): p
        for p in draw_products(manifest.seed, manifest.products).products
        if p.category == "module" and p.specs["power_w"] == 550 and "cell" in p.specs
    }
    assert generated, "the small sample lists no 550 W module of today's lines"
    records, _rejects, _seconds = parse_all(root)
    listings = [r for r in records if product_id(r.brand, r.model) in generated]
    assert listings
    plan = plan_query(SearchParams(q="painel 550W"), {r.brand for r in records})
    assert (plan.category, plan.target_power_w) == ("module", 550)
    for record in listings:
        product = generated[product_id(record.brand, record.model)]
        assert record.category == "module"
        assert record.specs["power_w"] == 550
        assert "550" in record.title
        for key in ("voc_v", "isc_a", "vmp_v", "imp_a", "temp_coeff_voc_pct_per_c", "efficiency_pct"):
            assert record.specs[key] == pytest.approx(product.specs[key]), key
        assert record.specs["technology"] == "mono-c-si"


def test_the_default_sample_carries_today_s_market() -> None:
    """What `make run` loads: 540-720 W modules, string inverters up to 75 kW, hybrids, kits of today."""
    products = draw_products(42).products
    modules = [p for p in products if p.category == "module"]
    today = [p for p in modules if "cell" in p.specs]
    assert 0.1 <= len(today) / len(modules) <= 0.15
    assert all(540 <= p.specs["power_w"] <= 720 for p in today)
    at_550 = [p for p in today if p.specs["power_w"] == 550]
    assert len({p.brand for p in at_550}) >= 8
    for module in at_550:
        assert module.specs["voc_v"] == pytest.approx(49.9, abs=0.5)
        assert module.specs["vmp_v"] * module.specs["imp_a"] == pytest.approx(550, rel=0.01)
    three_phase = [
        p
        for p in products
        if p.category == "inverter" and p.specs["phases"] == 3 and p.specs["max_dc_voltage_v"] == 1100
    ]
    assert {p.specs["ac_voltage_v"] for p in three_phase} == {380.0}
    assert max(p.specs["power_w"] for p in three_phase) == 75_000
    assert all(p.specs["mppt_count"] >= 2 for p in three_phase)
    hybrids = [p for p in products if p.category == "hybrid_inverter"]
    assert {"Deye", "Growatt", "Livoltek"} <= {p.brand for p in hybrids}
    assert max(p.specs["power_w"] for p in hybrids) == 50_000
    kits = [p for p in products if p.category == "kit"]
    assert all(kit.components[0][0].specs["power_w"] >= 540 for kit in kits)


def test_past_the_listed_products_come_variants_with_identities_of_their_own() -> None:
    """A category asked for more than it lists: other power classes of its products, then new series."""
    listed = [
        SampleProduct("module", "Jinko Solar", f"JKM{w:g}N-72HL4-BDV", {**SPECS_550, "power_w": w}, 300.0)
        for w in (550.0, 560.0)
    ]
    identities = Identities()
    assert all(identities.claim(item) for item in listed)
    stream = CategoryStream(random.Random(3), load_market().variants, listed, identities.claim)
    taken = stream.take(40)
    assert taken[:2] == listed
    assert len({product_id(p.brand, p.model) for p in taken}) == 40
    assert all(550 <= p.specs["power_w"] <= 560 for p in taken)  # the listed products' range
    moved = next(p for p in taken if p.specs["power_w"] == 555)
    assert moved.model == "JKM555N-72HL4-BDV"
    assert moved.specs["vmp_v"] * moved.specs["imp_a"] == pytest.approx(555, rel=0.01)
    assert moved.specs["voc_v"] > SPECS_550["voc_v"]
    assert "JKM550N-72HL4-BDV-V2" in {p.model for p in taken}


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

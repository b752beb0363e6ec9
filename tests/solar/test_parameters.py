"""The approximate parameters live in data files, load into one typed object, and can be overridden."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from solar.parameters import DATA_DIR, UFS, SolarParameters, load_parameters


def test_shipped_values_come_from_the_data_files(params: SolarParameters) -> None:
    assert params.sizing.minimum_bill_kwh == {"mono": 30, "bi": 50, "tri": 100}
    assert params.sizing.performance_ratio == 0.78
    assert (params.electrical.dc_ac_ratio_min, params.electrical.dc_ac_ratio_max) == (1.0, 1.35)
    assert params.finance.degradation_per_year == 0.005
    assert params.finance.inverter_replacement_year == 12
    assert params.fio_b.schedule == {2023: 0.15, 2024: 0.30, 2025: 0.45, 2026: 0.60, 2027: 0.75, 2028: 0.90}
    assert params.fio_b.legacy_cutoff == date(2023, 1, 7)
    assert params.icms_by_uf["SP"] == pytest.approx(0.18)
    assert params.temperatures_by_uf["SC"].min_c == -8


def test_every_state_has_icms_and_temperatures(params: SolarParameters) -> None:
    assert sorted(params.icms_by_uf) == sorted(UFS)
    assert sorted(params.temperatures_by_uf) == sorted(UFS)
    assert len(UFS) == 27


def test_unknown_state_gets_the_default_temperatures(params: SolarParameters) -> None:
    default = params.site_temperatures(None)
    assert (default.min_c, default.max_c) == (0, 40)
    assert params.site_temperatures("rs").min_c == -6


def test_financing_lines_are_dated(params: SolarParameters) -> None:
    assert len(params.financing) >= 3
    assert all(line.date.year >= 2024 for line in params.financing)


def test_overrides_are_deep_merged_and_validated() -> None:
    changed = load_parameters(overrides={"sizing": {"performance_ratio": 0.75}, "icms_by_uf": {"SP": 0.2}})
    assert changed.sizing.performance_ratio == 0.75
    assert changed.sizing.minimum_bill_kwh["tri"] == 100  # the rest of the section is kept
    assert changed.icms_by_uf["SP"] == 0.2
    assert changed.icms_by_uf["RJ"] == pytest.approx(0.20)  # merged into the table, not replacing it
    assert len(changed.icms_by_uf) == 27
    with pytest.raises(ValidationError):
        load_parameters(overrides={"sizing": {"performance_ratio": 1.5}})
    with pytest.raises(ValidationError):
        load_parameters(overrides={"electrical": {"dc_ac_ratio_min": 1.4}})


def test_defaults_are_shared_and_frozen(params: SolarParameters) -> None:
    assert load_parameters() is params
    with pytest.raises(ValidationError):
        params.sizing.performance_ratio = 0.5


@pytest.mark.parametrize(
    "name",
    [
        "parametros.yaml",
        "lei-14300.yaml",
        "financiamento.yaml",
        "icms-uf.csv",
        "temperaturas-uf.csv",
        "irradiancia-capitais.csv",
    ],
)
def test_each_data_file_says_its_values_are_approximate(name: str) -> None:
    head = "\n".join((DATA_DIR / name).read_text("utf-8").splitlines()[:4])
    assert head.startswith("#")
    assert "APPROXIMATE" in head.upper()


def test_readme_labels_the_tariff_sample() -> None:
    readme = (Path(DATA_DIR) / "README.md").read_text("utf-8")
    assert "tarifas-amostra.csv" in readme
    assert "approximate" in readme.lower()

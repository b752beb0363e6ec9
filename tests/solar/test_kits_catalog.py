"""Kit composition on a synthetic catalog of the real size (~11k products): sound options.

The catalog comes from the project's sample generator (tests/solar/synthetic.py). Speed is measured in
`make bench` (and `python -m tests.solar.bench_kits`), never here.
"""

from __future__ import annotations

import pytest

from solar.connection import GridConnection
from solar.equipment import EquipmentIndex
from solar.kit_options import KitNeed
from solar.kits import compose_kits
from solar.parameters import ConnectionKind, SolarParameters
from tests.solar.synthetic import synthetic_catalog


@pytest.fixture(scope="module")
def index() -> EquipmentIndex:
    items = synthetic_catalog(11_000)
    assert len(items) == 11_000
    return EquipmentIndex.build(items)


@pytest.mark.parametrize(
    ("kwp", "roof", "kind", "uf"),
    [
        (3.2, "cerâmico", "mono", "SP"),
        (7.5, "metalico", "bi", "CE"),
        (25.0, "laje", "tri", "RS"),
        (60.0, "solo", "tri", "MG"),
    ],
)
def test_options_for_common_needs(
    index: EquipmentIndex, params: SolarParameters, kwp: float, roof: str, kind: ConnectionKind, uf: str
) -> None:
    need = KitNeed(
        kwp=kwp, roof_type=roof, connection=GridConnection(kind=kind), site=params.site_temperatures(uf)
    )
    result = compose_kits(index, need, params)
    assert len(result.options) == params.kits.max_options
    assert result.candidates_evaluated > 0
    ranks = [(o.price_per_wp, o.lead_time_days) for o in result.options]
    assert ranks == sorted(ranks)
    for option in result.options:
        assert all(check.ok for check in option.checks), option.title
        assert option.total_price_brl == pytest.approx(sum(line.total_brl for line in option.lines), abs=0.05)
        assert option.dc_power_w >= kwp * 1000 * params.kits.power_tolerance[0]
        assert option.lead_time_days == max(line.lead_time_days for line in option.lines)
        if option.kind == "composed":
            categories = [line.category for line in option.lines]
            assert categories == ["module", "inverter", "structure", "string_box", "cable"]

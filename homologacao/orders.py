"""An ERP order → the homologação case it opens: its consumer unit, and its modules and inverters (by
catalog id; the kWp from the catalog's module power). An order that cannot make a case says why."""

from __future__ import annotations

from collections.abc import Mapping

from erp.records import ErpOrder
from homologacao.case import Case, ConsumerUnit, Equipment, SystemLine, SystemSpec
from solar.parameters import ConnectionKind

CONNECTIONS: dict[str, ConnectionKind] = {"monofasico": "mono", "bifasico": "bi", "trifasico": "tri"}


class NotACase(ValueError):
    """The order lacks what a homologação case needs."""


def case_from_order(order: ErpOrder, catalog: Mapping[str, Equipment]) -> Case:
    unit = order.consumer_unit
    if unit is None:
        raise NotACase("the order has no consumer unit")
    modules: list[SystemLine] = []
    inverters: list[SystemLine] = []
    module_w = 0.0
    for item in order.items:
        equipment = catalog.get(item.product_id or "")
        if equipment is None:
            continue  # structures, cables and unknown ids are no part of the case
        line = SystemLine(product_id=equipment.product_id, quantity=item.quantity)
        if equipment.is_inverter:
            inverters.append(line)
        elif equipment.category == "module":
            modules.append(line)
            module_w += (equipment.power_w or 0.0) * item.quantity
    if not modules or not inverters:
        raise NotACase("the order has no catalog module or no catalog inverter (kits are not expanded)")
    if module_w <= 0:
        raise NotACase("the catalog gives no power for the order's modules")
    return Case(
        case_id=f"pedido-{order.order_id}",
        order_id=order.order_id,
        consumer_unit=ConsumerUnit(
            number=unit.number, utility=unit.utility, connection=CONNECTIONS[unit.connection], uf=unit.uf
        ),
        system=SystemSpec(modules=modules, inverters=inverters, kwp=round(module_w / 1000, 3)),
    )

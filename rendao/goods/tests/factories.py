"""Builders for the intake, stock, transfer and stock-take tests: everything through the services."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

from django.utils import timezone

from rendao.core.models import Branch, User
from rendao.goods.intake import IntakeLine, intake_record
from rendao.goods.models import DonorKind, Intake, Lot, Warehouse
from rendao.goods.warehouses import warehouse_create

_serial = count(1)


def warehouse(actor: User, branch: Branch, **fields: Any) -> Warehouse:
    n = next(_serial)
    return warehouse_create(actor=actor, branch=branch, name=fields.pop("name", f"备灾仓库{n}"), **fields)


def line(**fields: Any) -> IntakeLine:
    values: dict[str, Any] = {"item_name": "矿泉水", "unit": "箱", "quantity": 100, "unit_value_fen": 2_500}
    values.update(fields)
    return IntakeLine(**values)


def receive(actor: User, wh: Warehouse, *lines: IntakeLine, **fields: Any) -> Intake:
    values: dict[str, Any] = {
        "donor_kind": DonorKind.ORGANISATION,
        "organisation_name": "厦门爱心企业有限公司",
    }
    values.update(fields)
    return intake_record(actor=actor, warehouse=wh, lines=list(lines) or [line()], **values)


def one_lot(actor: User, wh: Warehouse, quantity: int = 100, **fields: Any) -> Lot:
    intake = receive(actor, wh, line(quantity=quantity, **fields))
    return intake.lots.get()


def soon(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)

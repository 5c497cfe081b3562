"""transfer_create: GOODS_MANAGE at both warehouses; log entry; refusals change nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.goods.models import Move, Stock
from rendao.goods.tests.factories import one_lot, warehouse
from rendao.goods.warehouses import transfer_create
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db


def test_city_staff_move_goods_from_one_district_to_another(personas: Personas) -> None:
    siming = warehouse(personas.siming_staff, personas.tree.siming)
    huli = warehouse(personas.huli_staff, personas.tree.huli)
    lot = one_lot(personas.siming_staff, siming, quantity=50)
    move = transfer_create(
        actor=personas.city_staff, lot=lot, source=siming, target=huli, quantity=20, note="支援湖里"
    )
    assert Stock.objects.get(lot=lot, warehouse=siming).quantity == 30
    assert Stock.objects.get(lot=lot, warehouse=huli).quantity == 20
    leaf = json.loads(bytes(Entry.objects.get(index=move.ledger_index).data))
    assert leaf["kind"] == EntryKind.GOODS_MOVED
    assert (leaf["from"], leaf["to"], leaf["quantity"]) == (
        siming.code,
        huli.code,
        20,
    )
    assert AuditEvent.objects.filter(action="goods.transfer").count() == 1


def test_district_staff_need_rights_at_both_ends(personas: Personas) -> None:
    siming = warehouse(personas.siming_staff, personas.tree.siming)
    huli = warehouse(personas.huli_staff, personas.tree.huli)
    lot = one_lot(personas.siming_staff, siming, quantity=50)
    for actor, src, dst in (
        (personas.siming_staff, siming, huli),
        (personas.huli_staff, siming, huli),
        (personas.auditor, siming, huli),
    ):
        with pytest.raises(PermissionDenied):
            transfer_create(actor=actor, lot=lot, source=src, target=dst, quantity=1)
    assert Move.objects.filter(kind="transfer").count() == 0


def test_too_much_or_a_long_note_is_refused(personas: Personas) -> None:
    a = warehouse(personas.siming_staff, personas.tree.siming)
    b = warehouse(personas.siming_staff, personas.tree.siming)
    lot = one_lot(personas.siming_staff, a, quantity=5)
    with pytest.raises(ValidationError):
        transfer_create(actor=personas.siming_staff, lot=lot, source=a, target=b, quantity=6)
    with pytest.raises(ValidationError):
        transfer_create(actor=personas.siming_staff, lot=lot, source=a, target=b, quantity=1, note="x" * 201)
    assert Move.objects.filter(kind="transfer").count() == 0
    assert Stock.objects.get(lot=lot, warehouse=a).quantity == 5

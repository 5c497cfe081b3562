"""`ledger_audit` re-derives the issue, write-off and goods sign-off leaves from their rows."""

from __future__ import annotations

import json

import pytest

from rendao.approvals.services import request_decide
from rendao.conftest import Personas
from rendao.goods import distribution, writeoffs
from rendao.goods.ledger_audit_distribution import goods_signoff_now
from rendao.goods.models import Lot, OrderLine, WriteOff, WriteOffReason
from rendao.goods.tests import goods_factory as f
from rendao.ledger.audit_registry import ledger_audit, rederiver_for
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db
MINE = {EntryKind.GOODS_ISSUED, EntryKind.WRITE_OFF, EntryKind.RECIPIENT_SIGNOFF}


def mismatches() -> list[str]:
    return [str(m) for m in ledger_audit().mismatches if m.kind in MINE]


def world(personas: Personas) -> tuple[f.Scene, WriteOff]:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=60)
    order = f.approved_order(s, lines=[("书包", "", "个", 50)])
    distribution.order_issue(actor=s.keeper, order=order)
    received = {p.pk: p.quantity - 1 for p in distribution.picks_of(order)}
    distribution.order_signoff(actor=s.rep, order=order, received=received)
    lot = Lot.objects.get()
    writeoff = writeoffs.writeoff_request(
        actor=s.keeper, warehouse=s.wh, lot=lot, quantity=5, reason=WriteOffReason.DAMAGED, explanation="受潮"
    )
    assert writeoff.approval_request is not None
    request_decide(actor=personas.siming_staff, request=writeoff.approval_request, outcome="approve")
    request_decide(actor=personas.city_staff, request=writeoff.approval_request, outcome="approve")
    return s, writeoff


def test_the_leaves_match_their_rows(personas: Personas) -> None:
    world(personas)
    assert {e.kind for e in Entry.objects.all()} >= MINE
    assert mismatches() == []
    report = ledger_audit()
    for kind in MINE:
        assert report.not_checked[kind] == 0


def test_a_changed_row_is_reported_by_key(personas: Personas) -> None:
    _s, writeoff = world(personas)
    WriteOff.objects.filter(pk=writeoff.pk).update(reason=WriteOffReason.EXPIRED)
    Lot.objects.update(item_name="双肩书包")
    OrderLine.objects.update(unit="只")
    found = mismatches()
    assert any("write_off" in m and "reason" in m for m in found)
    assert any("goods_issued" in m and "item" in m for m in found)
    assert any("recipient_signoff" in m and "lines" in m for m in found)


def test_the_signoff_rederiver_handles_goods_leaves_and_hands_on_the_rest(personas: Personas) -> None:
    world(personas)
    rederive = rederiver_for(EntryKind.RECIPIENT_SIGNOFF)
    assert rederive is not None
    leaf = Entry.objects.get(kind=EntryKind.RECIPIENT_SIGNOFF)
    logged = json.loads(bytes(leaf.data))
    assert rederive(logged) == goods_signoff_now(logged)

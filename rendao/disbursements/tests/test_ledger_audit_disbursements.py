"""`ledger_audit` re-derives allocation, disbursement and recipient sign-off leaves from their rows."""

from __future__ import annotations

import pytest
from django.db import transaction

from rendao.conftest import Personas
from rendao.disbursements import services
from rendao.disbursements.models import Disbursement, Payment
from rendao.disbursements.tests.factories import paid, world
from rendao.ledger.audit_registry import ledger_audit
from rendao.ledger.services import ledger_append
from rendao.recipients.models import Institution

pytestmark = pytest.mark.django_db


def mismatches() -> list[str]:
    return [str(m) for m in ledger_audit().mismatches]


def test_the_whole_flow_audits_clean_and_every_kind_is_checked(personas: Personas) -> None:
    w = world(personas)
    d = paid(w)
    services.signoff_confirm(actor=w.representative, disbursement=d, received_fen=d.amount_fen)
    report = ledger_audit()
    assert report.ok, report.mismatches
    for kind in ("allocation", "disbursement", "recipient_signoff"):
        assert kind not in report.not_checked


def test_changed_rows_are_reported_by_key(personas: Personas) -> None:
    w = world(personas)
    d = paid(w, amount_fen=100_000)
    services.signoff_confirm(actor=w.representative, disbursement=d, received_fen=100_000)
    # A renamed payee changes every leaf that names it.
    Institution.objects.filter(pk=w.payee.pk).update(name="改名医院")
    found = mismatches()
    assert len(found) == 3
    assert all("payee" in m for m in found)
    Institution.objects.filter(pk=w.payee.pk).update(name=w.payee.name)
    Payment.objects.filter(disbursement=d).update(paid_on="2020-01-01")
    assert [m for m in mismatches() if "paid_on" in m]
    assert Disbursement.objects.filter(pk=d.pk).update(category="management")
    assert [m for m in mismatches() if "category" in m]


def test_a_leaf_for_a_disbursement_we_do_not_have_is_reported_gone(personas: Personas) -> None:
    with transaction.atomic():
        ledger_append(kind="allocation", payload={"disbursement": "ZB-2026-999999", "amount_fen": 1})
        ledger_append(kind="disbursement", payload={"transfer": "NOPE", "amount_fen": 1})
        ledger_append(kind="recipient_signoff", payload={"disbursement": "ZB-2026-999999"})
    found = mismatches()
    assert len(found) == 3
    assert all("no longer exists" in m for m in found)

"""`ledger_audit` re-derives "disclosure_published" leaves from the disclosure rows."""

from __future__ import annotations

import pytest

from rendao.conftest import Personas
from rendao.disclosure.services import disclosure_correct, disclosure_publish
from rendao.disclosure.tests.helpers import draft
from rendao.ledger.audit_registry import ledger_audit

pytestmark = pytest.mark.django_db


def test_published_and_corrected_disclosures_audit_clean(personas: Personas) -> None:
    first = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    correction = disclosure_correct(
        actor=personas.finance, published=first, title="t", body="b", figures={"x": 1}, correction_note="n"
    )
    disclosure_publish(actor=personas.finance, disclosure=correction)
    report = ledger_audit()
    assert report.ok, [str(m) for m in report.mismatches]
    assert report.checked == 2
    assert report.not_checked["disclosure_published"] == 0

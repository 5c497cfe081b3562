"""From a real payment out of a project's fund to the donor's message, page and record."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas
from rendao.core.models import OutboxMessage
from rendao.feedback.models import UseNotice, UseReport
from rendao.funds.tests.factories import donate, pay

pytestmark = pytest.mark.django_db


def test_a_payment_to_an_institution_reaches_the_donors(personas: Personas) -> None:
    from rendao.disbursements.tests.factories import paid, world

    w = world(personas, amount_fen=1_000_000)
    donation = donate(w.project, amount_fen=50_000, mobile="13900009999", donor_name="赵六")
    pay(donation)
    donation.refresh_from_db()

    paid(w, amount_fen=300_000)

    report = UseReport.objects.get(project=w.project)
    assert report.recipient == w.payee.name
    assert report.amount_fen == 300_000
    assert report.notified_at is not None
    notice = UseNotice.objects.get(donation=donation)
    assert notice.report == report
    (message,) = OutboxMessage.objects.filter(kind="use_report")
    # Delivered at commit (the console channel in tests), then forgotten: it held the follow link.
    assert message.channel == "sms"
    assert message.recipient_masked == "139****9999"
    assert message.status == OutboxMessage.Status.SENT
    assert message.body == ""

    record = json.loads(
        Client().get(reverse("feedback:record_json", kwargs={"token": donation.follow_token})).content
    )
    assert [u["ledger_index"] for u in record["uses"]] == [report.ledger_index]
    totals = record["project_totals"]
    assert totals["raised_fen"] == 1_050_000
    assert totals["used_fen"] == 300_000
    assert totals["balance_fen"] == 1_050_000 - 300_000

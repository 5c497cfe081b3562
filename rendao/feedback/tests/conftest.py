from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction

from rendao.conftest import Personas
from rendao.core.models import User
from rendao.feedback.models import UseKind, UseReport
from rendao.feedback.services import use_report_record
from rendao.funds.models import Donation, FundraisingProject
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.ledger.services import ledger_append

_sources = itertools.count(1)


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance, title="爱心书包")


def paid(
    project: FundraisingProject, *, user: User | None = None, amount_fen: int = 10_000, **fields: Any
) -> Donation:
    donation = donate(project, amount_fen=amount_fen, **fields)
    if user is not None:
        Donation.objects.filter(pk=donation.pk).update(user=user)
    pay(donation)
    donation.refresh_from_db()
    return donation


def record_use(
    project: FundraisingProject,
    *,
    amount_fen: int = 5_000,
    kind: UseKind = UseKind.MONEY,
    items: str = "",
    recipient: str = "莲花小学",
    purpose: str = "采购书包",
) -> UseReport:
    """A use with its own ledger entry, as the disbursements and goods services write it.

    Callers run it under django_capture_on_commit_callbacks when they want the fan-out.
    """
    with transaction.atomic():
        entry = ledger_append(
            kind="disbursement" if kind == UseKind.MONEY else "goods_issued",
            payload={"project": project.pk, "amount_fen": amount_fen},
        )
        return use_report_record(
            project=project,
            kind=kind,
            source=f"test:{next(_sources)}",
            amount_fen=amount_fen,
            items=items,
            recipient=recipient,
            purpose=purpose,
            ledger_index=entry.index,
        )

"""Builders for the bank statement and Charity-law watch tests: a paid disbursement
and its bank transfer, written directly (the request, approval and payment
services are tested on their own), with a balanced journal entry and a log leaf
like the real payment makes.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from django.db import transaction

from rendao.core.models import Branch, User
from rendao.disbursements.models import Category, Disbursement, Payment, Status
from rendao.funds.accounting import account_open, journal_post
from rendao.funds.models import Account, FundraisingProject
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.ledger.services import ledger_append
from rendao.recipients.models import Institution, InstitutionKind

_numbers = itertools.count(1)


def funded_project(branch: Branch, creator: User, *, amount_fen: int = 2_000_000) -> FundraisingProject:
    """An open project of `branch` whose restricted fund holds `amount_fen`."""
    project = open_project(branch, creator)
    pay(donate(project, amount_fen=amount_fen))
    return project


def payee(branch: Branch, *, name: str = "厦门市第一医院", related_party: bool = False) -> Institution:
    institution, _created = Institution.objects.get_or_create(
        branch=branch,
        name=name,
        defaults={
            "kind": InstitutionKind.HOSPITAL,
            "related_party": related_party,
            "related_party_note": "理事任职单位" if related_party else "",
        },
    )
    return institution


def _bank(branch: Branch) -> Account:
    code = f"BANK-{branch.pk}"
    existing = Account.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return account_open(code=code, name="基本户", kind=Account.Kind.BANK, branch=branch)


def paid_disbursement(
    project: FundraisingProject,
    *,
    by: User,
    reference: str,
    amount_fen: int = 100_000,
    paid_on: date,
    category: str = Category.CHARITABLE,
    to: Institution | None = None,
    **fields: Any,
) -> Payment:
    """A disbursement of `project`'s fund, paid in full by one transfer with `reference`."""
    fund = Account.objects.get(project=project, kind=Account.Kind.RESTRICTED_FUND)
    institution = to or payee(project.branch)
    with transaction.atomic():
        disbursement = Disbursement.objects.create(
            number=f"ZB-T{next(_numbers):05d}",
            branch=project.branch,
            fund=fund,
            project=project,
            payee=institution,
            related_party=institution.related_party,
            amount_fen=amount_fen,
            paid_fen=amount_fen,
            purpose="采购急救包",
            category=category,
            payee_bank_account="6222 0000 0000 0000",
            status=Status.PAID,
            requested_by=by,
            **fields,
        )
        entry = journal_post(
            lines=[(fund, amount_fen, 0), (_bank(project.branch), 0, amount_fen)],
            reference=f"payment:{reference}",
            reason="disbursement payment",
        )
        leaf = ledger_append(
            kind="disbursement",
            payload={"disbursement": disbursement.number, "amount_fen": amount_fen},
        )
        return Payment.objects.create(
            disbursement=disbursement,
            bank_reference=reference,
            paid_on=paid_on,
            amount_fen=amount_fen,
            journal_entry=entry,
            ledger_index=leaf.index,
            recorded_by=by,
        )

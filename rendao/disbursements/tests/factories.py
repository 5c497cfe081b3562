"""Builders for the disbursement flow tests: a funded project, a payee with its
representative, a second finance officer to approve, and the approval itself.

The project's funding goes through the real donation services; the request,
approval, payment and sign-off go through the services under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.test import TestCase
from django.utils import timezone

from rendao.approvals.models import Outcome
from rendao.approvals.services import request_decide
from rendao.conftest import Personas, make_staff
from rendao.core.models import Branch, Role, User
from rendao.disbursements import services
from rendao.disbursements.models import Category, Disbursement, Payment
from rendao.funds.models import Account, FundraisingProject
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.recipients.models import Institution, InstitutionKind, InstitutionMember


@dataclass
class World:
    personas: Personas
    project: FundraisingProject
    fund: Account
    payee: Institution
    representative: User  # signs for the payee
    approver: User  # a second finance officer at the city society (step 2)


def funded_project(
    branch: Branch, creator: User, *, amount_fen: int = 1_000_000, title: str = ""
) -> FundraisingProject:
    project = open_project(branch, creator, title=title) if title else open_project(branch, creator)
    pay(donate(project, amount_fen=amount_fen))
    return project


def make_payee(branch: Branch, *, name: str = "思明区第一医院", related_party: bool = False) -> Institution:
    return Institution.objects.create(
        branch=branch,
        name=name,
        kind=InstitutionKind.HOSPITAL,
        related_party=related_party,
        related_party_note="理事任职单位" if related_party else "",
    )


def make_representative(institution: Institution, *, username: str, added_by: User) -> User:
    user = User.objects.create_user(username, email=f"{username}@example.org")
    InstitutionMember.objects.create(institution=institution, user=user, added_by=added_by)
    return user


def world(personas: Personas, *, amount_fen: int = 1_000_000) -> World:
    project = funded_project(personas.tree.siming, personas.finance, amount_fen=amount_fen)
    payee = make_payee(personas.tree.siming)
    return World(
        personas=personas,
        project=project,
        fund=Account.objects.get(code=f"RF-{project.pk}"),
        payee=payee,
        representative=make_representative(payee, username="hospital_rep", added_by=personas.siming_staff),
        approver=make_staff("finance2", personas.tree.city, Role.FINANCE),
    )


def request(w: World, *, amount_fen: int = 100_000, actor: User | None = None, **kw: Any) -> Disbursement:
    values: dict[str, Any] = {
        "purpose": "采购急救包",
        "category": Category.CHARITABLE,
        "payee_bank_account": "中国银行 思明支行 6217000000000000",
    }
    values.update(kw)
    return services.disbursement_request(
        actor=actor or w.personas.finance,
        fund=Account.objects.get(pk=w.fund.pk),
        payee=w.payee,
        amount_fen=amount_fen,
        **values,
    )


def approve(w: World, d: Disbursement) -> Disbursement:
    """Both steps of the default flow: 思明's administrator, then the second finance officer."""
    assert d.approval_request is not None
    request_decide(actor=w.personas.siming_staff, request=d.approval_request, outcome=Outcome.APPROVE)
    request_decide(actor=w.approver, request=d.approval_request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    return d


def approved(w: World, *, amount_fen: int = 100_000) -> Disbursement:
    return approve(w, request(w, amount_fen=amount_fen))


def record(
    w: World, d: Disbursement, *, amount_fen: int, reference: str, paid_on: date | None = None
) -> Payment:
    with TestCase.captureOnCommitCallbacks(execute=True):
        payment = services.payment_record(
            actor=w.personas.finance,
            disbursement=d,
            bank_reference=reference,
            paid_on=paid_on or timezone.localdate(),
            amount_fen=amount_fen,
        )
    d.refresh_from_db()
    return payment


def paid(w: World, *, amount_fen: int = 100_000) -> Disbursement:
    d = approved(w, amount_fen=amount_fen)
    record(w, d, amount_fen=amount_fen, reference=f"REF{d.pk:06d}")
    return d


def fund(w: World) -> Account:
    return Account.objects.get(pk=w.fund.pk)

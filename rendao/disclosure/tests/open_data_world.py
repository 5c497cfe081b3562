"""A small world holding one row of every open dataset, with known personal data to look for.

Money goes through the real donation services; the disbursement, the goods and
the published disclosure are written like their own factories write them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from rendao.conftest import Personas
from rendao.disbursements.models import Payment
from rendao.disbursements.tests.payments_factory import paid_disbursement
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.models import CoInitiator, Donation, DonationStatus, FundraisingProject, ProjectStatus
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.goods.models import Lot
from rendao.goods.tests.goods_factory import lot, warehouse
from rendao.ledger.models import Checkpoint
from rendao.ledger.services import ledger_append, ledger_checkpoint_sign

DONOR_NAME = "欧阳明月"
DONOR_MOBILE = "13912345678"
BANK_ACCOUNT = "6222 0000 0000 0000"  # what paid_disbursement records as the payee's account


@dataclass
class World:
    project: FundraisingProject
    draft: FundraisingProject
    named: Donation
    anonymous: Donation
    partnered: Donation
    unpaid: Donation
    hidden: Donation  # paid, but to a project whose page is not public
    flagged: Donation  # money that arrived after its order closed
    co_initiator: CoInitiator
    payment: Payment
    lot: Lot
    disclosure: Disclosure
    checkpoint: Checkpoint

    def secrets(self) -> list[str]:
        """Strings that must never appear in open data."""
        values = [DONOR_NAME, DONOR_MOBILE, BANK_ACCOUNT, self.co_initiator.assessment_note]
        for d in (self.named, self.anonymous, self.partnered):
            values += [d.out_trade_no, d.follow_token, d.commitment, d.commitment_salt]
        values.append(self.project.responsible_office_address)
        values.append(self.draft.title)
        return values


def _bulk_donation(project: FundraisingProject, **fields: Any) -> Donation:
    now = timezone.now()
    values: dict[str, Any] = {
        "out_trade_no": "T" + secrets.token_hex(10),
        "project": project,
        "branch_id": project.branch_id,
        "channel": "sandbox",
        "amount_fen": 5_000,
        "status": DonationStatus.PAID,
        "public_name": "爱心人士",
        "follow_token": secrets.token_urlsafe(32),
        "expires_at": now,
        "paid_at": now,
    }
    values.update(fields)
    return Donation.objects.create(**values)


def build_world(personas: Personas) -> World:
    tree = personas.tree
    staff = personas.siming_staff
    project = open_project(tree.siming, staff, responsible_office_address="思明区某路 8 号 302 室")
    co = CoInitiator.objects.create(
        project=project,
        organisation_name="厦门爱心基金会",
        assessment_note="负责人电话 13700001111，信用良好",
        role="宣传",
        attribution_code=secrets.token_urlsafe(12),
    )
    named = donate(project, amount_fen=20_000, donor_name=DONOR_NAME, mobile=DONOR_MOBILE)
    pay(named)
    anonymous = donate(project, amount_fen=30_000, anonymous=True, mobile="13812340000")
    pay(anonymous)
    partnered = donate(project, amount_fen=40_000, donor_name="李四", attribution=co.attribution_code)
    pay(partnered)
    unpaid = donate(project, amount_fen=50_000, donor_name="王五")
    draft = open_project(tree.siming, staff, title="尚在筹备的项目", status=ProjectStatus.DRAFT)
    hidden = _bulk_donation(draft, amount_fen=60_000)
    flagged = _bulk_donation(project, amount_fen=70_000, refund_flagged=True)
    payment = paid_disbursement(
        project,
        by=personas.finance,
        reference="BANKREF-0001",
        amount_fen=50_000,
        paid_on=timezone.localdate(),
    )
    wh = warehouse(tree.siming)
    goods = lot(wh, receiver=staff)
    entry = ledger_append(kind="disclosure_published", payload={"title": "第三季度进展"})
    today = timezone.localdate()
    disclosure = Disclosure.objects.create(
        branch=tree.siming,
        project=project,
        kind="progress_quarterly",
        period_start=today - timedelta(days=90),
        period_end=today,
        title="=第三季度进展",
        body="本季度发放书包 120 个。",
        figures={"received": 90_000, "spent": 10_000},
        status=DisclosureStatus.PUBLISHED,
        created_by=staff,
        published_by=staff,
        published_at=timezone.now(),
        ledger_index=entry.index,
    )
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    for d in (named, anonymous, partnered, unpaid):
        d.refresh_from_db()
    project.refresh_from_db()
    return World(
        project=project,
        draft=draft,
        named=named,
        anonymous=anonymous,
        partnered=partnered,
        unpaid=unpaid,
        hidden=hidden,
        flagged=flagged,
        co_initiator=co,
        payment=payment,
        lot=goods,
        disclosure=disclosure,
        checkpoint=checkpoint,
    )


def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def all_items(name: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a dataset, following `next` from the first page."""
    c = client()
    response = c.get(f"/api/v1/open/datasets/{name}", params)
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = []
    while True:
        body = response.json()
        items += body["items"]
        if body["next"] is None:
            return items
        response = c.get(body["next"])
        assert response.status_code == 200, response.content


def csv_text(name: str, query: str = "") -> str:
    response = client().get(f"/open/data/{name}.csv{query}")
    assert response.status_code == 200, response.content
    data = response.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    return data.decode("utf-8-sig")

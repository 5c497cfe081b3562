"""Shared builders for the donation tests: an open project, a donation, a sandbox payment.

An open project is built directly (its approval and filing are tested in
test_projects.py); everything after that goes through the real services.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import TestCase
from django.utils import timezone

from rendao.core.models import Branch, User
from rendao.funds.donations import DonationRequest, donation_accounts_open, donation_checkout, donation_create
from rendao.funds.models import Account, Donation, FundraisingProject, ProjectStatus
from rendao.funds.payments import ClientInfo, Reply
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.projects import _restricted_fund


def open_project(
    branch: Branch,
    creator: User,
    *,
    restricted: bool = True,
    channels: tuple[str, ...] = ("sandbox",),
    **fields: Any,
) -> FundraisingProject:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "title": "红十字爱心小书包",
        "purpose": "为困难家庭学生送书包",
        "start_date": today - timedelta(days=10),
        "end_date": today + timedelta(days=60),
        "area": "厦门市",
        "responsible_name": "项目负责人",
        "responsible_office_address": "厦门市思明区红十字会办公室",
        "channels": list(channels),
        "bank_account": "厦门市红十字会 基本户 0000",
        "beneficiaries": "困难家庭学生",
        "intended_use": "采购书包与文具",
        "cost_fen": 0,
        "leftover_handling": "转入同类助学项目",
        "target_fen": 10_000_000,
        "restricted": restricted,
        "status": ProjectStatus.OPEN,
        "filing_number": "350200-2026-001",
        "filed_on": today - timedelta(days=11),
        "opened_on": today - timedelta(days=10),
    }
    values.update(fields)
    project = FundraisingProject.objects.create(branch=branch, created_by=creator, **values)
    _restricted_fund(project, actor=None)
    donation_accounts_open(project)
    return project


def donate(
    project: FundraisingProject, *, amount_fen: int = 10_000, checkout: bool = True, **fields: Any
) -> Donation:
    values: dict[str, Any] = {"donor_name": "张三明", "channel": project.channels[0]}
    values.update(fields)
    donation, _created = donation_create(
        DonationRequest(project_id=project.pk, amount_fen=amount_fen, **values)
    )
    if checkout:
        donation_checkout(donation, notify_url="http://127.0.0.1/pay/notify/sandbox/", client=ClientInfo())
    return donation


def sandbox_notification(donation: Donation) -> tuple[dict[str, str], bytes]:
    """Pay at the sandbox and return a freshly signed notification of the payment."""
    return SandboxChannel().pay(donation.out_trade_no)


def pay(donation: Donation) -> Reply:
    from rendao.funds.donations import notification_receive

    headers, body = sandbox_notification(donation)
    # Tests run inside one transaction: run what the payment queues on commit
    # (the receipt task) as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return notification_receive("sandbox", headers, body)


def account(code: str) -> Account:
    return Account.objects.get(code=code)

"""Builders for the calendar-in-the-platform tests (no tests here).

Projects, paid disbursements and published disclosures are written directly with
chosen dates, so every rule can be checked against a fixed `today`; the services
that make them are tested on their own. A published disclosure is inserted
published (the database refuses only to change or delete one).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from rendao.conftest import Personas, make_staff
from rendao.core.models import Branch, Role, User
from rendao.disbursements.models import Payment
from rendao.disbursements.tests.payments_factory import _bank, paid_disbursement, payee
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.accounting import journal_post
from rendao.funds.models import Account, FundraisingProject
from rendao.funds.tests.factories import open_project

_refs = itertools.count(1)
_ledger = itertools.count(900_000)

# The scene's day: every test of the scene reads the calendar as of this day.
TODAY = date(2025, 8, 15)
MAJOR_FEN = 500_000


def project(
    branch: Branch, creator: User, *, title: str, start: date, end: date, **fields: Any
) -> FundraisingProject:
    return open_project(
        branch,
        creator,
        title=title,
        start_date=start,
        end_date=end,
        opened_on=start,
        filed_on=start,
        **fields,
    )


def paid(
    p: FundraisingProject, by: User, *, paid_on: date, amount_fen: int = 100_000, related: bool = False
) -> Payment:
    """A paid disbursement of `p`; the project's fund is given the money first (a direct gift entry)."""
    fund = Account.objects.get(project=p, kind=Account.Kind.RESTRICTED_FUND)
    with transaction.atomic():
        journal_post(
            lines=[(_bank(p.branch), amount_fen, 0), (fund, 0, amount_fen)],
            reference=f"gift:{next(_refs)}",
            reason="gift",
        )
    to = payee(p.branch, name="理事任职单位医院" if related else "厦门市第一医院", related_party=related)
    reference = f"CAL-{next(_refs):05d}"
    return paid_disbursement(p, by=by, reference=reference, amount_fen=amount_fen, paid_on=paid_on, to=to)


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=timezone.get_current_timezone())


def published(
    by: User,
    branch: Branch,
    *,
    kind: str,
    start: date,
    end: date,
    on: date,
    project: FundraisingProject | None = None,
    corrects: Disclosure | None = None,
) -> Disclosure:
    """A published disclosure (or a published correction of `corrects`) dated `on`."""
    return Disclosure.objects.create(
        branch=branch,
        project=project,
        kind=kind,
        period_start=start,
        period_end=end,
        title=f"{kind} {start}–{end}",
        body="-",
        status=DisclosureStatus.PUBLISHED,
        series=corrects.series if corrects else uuid.uuid4(),
        version=corrects.version + 1 if corrects else 1,
        corrects=corrects,
        correction_note="数字更正" if corrects else "",
        created_by=by,
        published_by=by,
        published_at=at(on),
        ledger_index=next(_ledger),
    )


@dataclass
class Scene:
    """Every rule kind at 思明 (a district: owes the annual report) and its street, as of TODAY."""

    siming_finance: User
    long: FundraisingProject  # 2025 all year: quarterly progress + final account
    short: FundraisingProject  # Mar–Apr 2025, ended: final account only
    emergency: FundraisingProject  # at the street, August 2025: every 5 days
    related: Payment  # related-party payment, 1 Jul 2025
    major_late: Payment  # major payment, 10 Jul 2025
    major_recent: Payment  # major payment, 10 Aug 2025


def scene(personas: Personas) -> Scene:
    tree = personas.tree
    siming_finance = make_staff("siming_finance", tree.siming, Role.FINANCE)
    long = project(
        tree.siming, siming_finance, title="爱心小书包 2025", start=date(2025, 1, 1), end=date(2025, 12, 31)
    )
    short = project(
        tree.siming, siming_finance, title="春季助学", start=date(2025, 3, 1), end=date(2025, 4, 30)
    )
    emergency = project(
        tree.street,
        siming_finance,
        title="台风应急",
        start=date(2025, 8, 1),
        end=date(2025, 8, 31),
        emergency=True,
    )
    related = paid(long, siming_finance, paid_on=date(2025, 7, 1), related=True)
    major_late = paid(long, siming_finance, paid_on=date(2025, 7, 10), amount_fen=MAJOR_FEN)
    major_recent = paid(long, siming_finance, paid_on=date(2025, 8, 10), amount_fen=MAJOR_FEN + 1)
    # The 2024 annual report was published, its audit never: the calendar starts in 2024.
    published(
        siming_finance,
        tree.siming,
        kind="annual_report",
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
        on=date(2025, 5, 20),
    )
    return Scene(siming_finance, long, short, emergency, related, major_late, major_recent)

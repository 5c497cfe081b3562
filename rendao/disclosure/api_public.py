"""GET /api/v1/open/summary/...: the public figures, with every detail line and check.

The same numbers as the /open/ pages (rendao.disclosure.figures): each total is
published with the lines it sums and the named equations it claims, so anyone
can recompute them (docs/public-disclosure.md). Public and cacheable for a
minute; a constant number of queries however many donations there are.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from ninja import Field, Router, Schema

from rendao.core.api import errors
from rendao.disclosure import views_public
from rendao.disclosure.figures import Figures, branch_figures, project_figures
from rendao.funds.models import FundraisingProject

router = Router(tags=["open data"])

MAX_AGE = 60


class LineOut(Schema):
    key: str = Field(
        description="Stable: a channel code, a category value, a co-initiator or payee id, an item."
    )
    label: str
    count: int = Field(description="Donations, payments or units, as the list says.")
    amount_fen: int
    documents: int = Field(0, description="Supporting documents on file (payees only).")


class DayOut(Schema):
    day: date
    count: int = Field(description="Donations received that day.")
    received_fen: int
    refunded_fen: int = Field(description="Refunds that succeeded that day (of gifts from any day).")
    net_fen: int


class CheckOut(Schema):
    key: str
    label: str
    left_fen: int
    right_fen: int
    holds: bool


class IncomeOut(Schema):
    received_count: int
    received_fen: int
    refunded_fen: int
    net_income_fen: int = Field(description="received_fen − refunded_fen.")
    by_day: list[DayOut]
    by_channel: list[LineOut] = Field(description="amount_fen is net of refunds.")
    by_partner: list[LineOut] = Field(description="By co-initiator; key 0 = given directly. Net of refunds.")


class SpendingOut(Schema):
    paid_out_fen: int
    by_category: list[LineOut]
    by_payee: list[LineOut]
    reserved_fen: int = Field(description="Approved and not yet paid: still in the balance.")
    general_paid_out_fen: int = Field(
        0,
        description="Branch and society only: paid from the branches' general funds for no project "
        "(not part of the projects' income = paid out + balance).",
    )
    general_by_category: list[LineOut] = []
    general_by_payee: list[LineOut] = []


class GoodsOut(Schema):
    received_value_fen: int
    issued_value_fen: int
    received: list[LineOut] = Field(description="By item: count = units, amount = estimated value.")
    issued: list[LineOut]


class ScopeOut(Schema):
    kind: str = Field(description="society, branch or project.")
    id: int
    name: str
    filing_number: str = ""
    restricted: bool | None = None


class SummaryOut(Schema):
    scope: ScopeOut
    generated_at: datetime
    income: IncomeOut
    spending: SpendingOut
    balance_fen: int
    goods: GoodsOut
    checks: list[CheckOut]
    consistent: bool = Field(description="Every check holds.")


def _lines(lines: list[object]) -> list[LineOut]:
    return [LineOut.model_validate(line, from_attributes=True) for line in lines]


def _summary(scope: ScopeOut, f: Figures) -> SummaryOut:
    return SummaryOut(
        scope=scope,
        generated_at=timezone.now(),
        income=IncomeOut(
            received_count=f.received_count,
            received_fen=f.received_fen,
            refunded_fen=f.refunded_fen,
            net_income_fen=f.net_income_fen,
            by_day=[
                DayOut(
                    day=d.day,
                    count=d.count,
                    received_fen=d.received_fen,
                    refunded_fen=d.refunded_fen,
                    net_fen=d.net_fen,
                )
                for d in f.by_day
            ],
            by_channel=_lines(list(f.by_channel)),
            by_partner=_lines(list(f.by_partner)),
        ),
        spending=SpendingOut(
            paid_out_fen=f.paid_out_fen,
            by_category=_lines(list(f.by_category)),
            by_payee=_lines(list(f.by_payee)),
            reserved_fen=f.reserved_fen,
            general_paid_out_fen=f.general_paid_out_fen,
            general_by_category=_lines(list(f.general_by_category)),
            general_by_payee=_lines(list(f.general_by_payee)),
        ),
        balance_fen=f.balance_fen,
        goods=GoodsOut(
            received_value_fen=f.goods_received_value_fen,
            issued_value_fen=f.goods_issued_value_fen,
            received=_lines(list(f.goods_received)),
            issued=_lines(list(f.goods_issued)),
        ),
        checks=[
            CheckOut(key=c.key, label=c.label, left_fen=c.left_fen, right_fen=c.right_fen, holds=c.holds)
            for c in f.checks
        ],
        consistent=f.consistent,
    )


def _cacheable(response: HttpResponse) -> None:
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    # The labels follow the caller's language.
    patch_vary_headers(response, ("Accept-Language",))


@router.get(
    "/society",
    auth=None,
    response={200: SummaryOut, **errors(404)},
    url_name="open_summary_society",
    summary="The whole society's public figures, with detail lines and checks",
)
def summary_society(request: HttpRequest, response: HttpResponse) -> SummaryOut:
    root = views_public.society_branch()
    _cacheable(response)
    return _summary(ScopeOut(kind="society", id=root.pk, name=root.name), branch_figures(root))


@router.get(
    "/branches/{pk}",
    auth=None,
    response={200: SummaryOut, **errors(404, 422)},
    url_name="open_summary_branch",
    summary="One branch's public figures (with the branches under it)",
)
def summary_branch(request: HttpRequest, response: HttpResponse, pk: int) -> SummaryOut:
    branch = views_public.public_branch(pk)
    _cacheable(response)
    return _summary(ScopeOut(kind="branch", id=branch.pk, name=branch.name), branch_figures(branch))


@router.get(
    "/projects/{pk}",
    auth=None,
    response={200: SummaryOut, **errors(404, 422)},
    url_name="open_summary_project",
    summary="One public fundraising project's figures, with detail lines and checks",
)
def summary_project(request: HttpRequest, response: HttpResponse, pk: int) -> SummaryOut:
    project: FundraisingProject = views_public.public_project(pk)
    _cacheable(response)
    scope = ScopeOut(
        kind="project",
        id=project.pk,
        name=project.title,
        filing_number=project.filing_number,
        restricted=project.restricted,
    )
    return _summary(scope, project_figures(project))

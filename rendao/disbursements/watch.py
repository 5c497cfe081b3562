"""The Charity-law watch: Art 61 spending and management-cost ratios, Art 40 related-party payments.

For a branch's subtree and a calendar year (China time):

- income: online donations paid in the year minus refunds that succeeded in the
  year, taken from the Donation and Refund rows (the same amounts their journal
  entries post to the restricted and general funds). Late payments held for
  refund (`refund_flagged`) are no income, and neither are their refunds.
- spending: the bank transfers of disbursements (`Payment.amount_fen`, by
  `paid_on`) in the year, by the disbursement's category: charitable activity,
  management cost, fundraising cost.
- Art 61: charitable spending of the year ≥ CHARITY_SPENDING_MIN_PERCENT (70) %
  of the PRIOR year's income; management cost ≤ CHARITY_MANAGEMENT_MAX_PERCENT
  (10) % of the year's total spending. Ratios are exact fractions of integer fen;
  they are shown rounded half up to one decimal. A ratio whose base is zero
  (no prior-year income, no spending) is "not applicable", neither OK nor at risk.
- Art 40: the year's payments to payees flagged as related parties (the flag is
  copied onto the disbursement when requested).

Every figure is one aggregate query; the related-party list is capped.
Reading needs FINANCE_VIEW or DASHBOARD_VIEW at the branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core import inbox
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, in_scope
from rendao.disbursements.models import Category, Payment, StatementDifference
from rendao.funds.models import Donation, Refund, RefundStatus

CHINA = ZoneInfo("Asia/Shanghai")
RELATED_PARTY_LIST_MAX = 100
WATCH_PERMS = (Perm.FINANCE_VIEW, Perm.DASHBOARD_VIEW)


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator against a threshold in percent; `ok` is None when not applicable."""

    numerator_fen: int
    denominator_fen: int
    threshold_percent: int
    at_least: bool  # True: the ratio must reach the threshold; False: must not exceed it

    @property
    def value(self) -> Fraction | None:
        if self.denominator_fen <= 0:
            return None
        return Fraction(self.numerator_fen, self.denominator_fen)

    @property
    def ok(self) -> bool | None:
        value = self.value
        if value is None:
            return None
        limit = Fraction(self.threshold_percent, 100)
        return value >= limit if self.at_least else value <= limit

    @property
    def percent(self) -> str:
        """ "72.3%" (half up, exact integer arithmetic); "—" when not applicable."""
        value = self.value
        if value is None:
            return "—"
        tenths = value * 1000
        rounded = (tenths.numerator * 2 + tenths.denominator) // (tenths.denominator * 2)
        whole, tenth = divmod(rounded, 10)
        return f"{whole}.{tenth}%"


@dataclass(frozen=True)
class RelatedPartyPayment:
    paid_on: date
    disbursement: str
    payee: str
    relation: str
    category: str
    amount_fen: int


@dataclass(frozen=True)
class CharityLawWatch:
    branch: Branch
    year: int
    income_fen: int
    prior_income_fen: int
    charitable_fen: int
    management_fen: int
    fundraising_fen: int
    spending: Ratio
    management: Ratio
    related_party_count: int
    related_party_fen: int
    related_party: list[RelatedPartyPayment]

    @property
    def total_spending_fen(self) -> int:
        return self.charitable_fen + self.management_fen + self.fundraising_fen

    @property
    def at_risk(self) -> bool:
        return self.spending.ok is False or self.management.ok is False


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


def china_year() -> int:
    return timezone.now().astimezone(CHINA).year


def income_fen(branch: Branch, year: int) -> int:
    """Donations paid in `year` minus refunds completed in `year`, in the branch's subtree."""
    start, end = year_bounds(year)
    received = Donation.objects.filter(
        branch__path__startswith=branch.path,
        paid_at__gte=start,
        paid_at__lt=end,
        refund_flagged=False,
    ).aggregate(total=Sum("amount_fen"))["total"]
    refunded = Refund.objects.filter(
        donation__branch__path__startswith=branch.path,
        donation__refund_flagged=False,
        status=RefundStatus.SUCCEEDED,
        completed_at__gte=start,
        completed_at__lt=end,
    ).aggregate(total=Sum("amount_fen"))["total"]
    return (received or 0) - (refunded or 0)


def _payments(branch: Branch, year: int) -> QuerySet[Payment]:
    return Payment.objects.filter(
        disbursement__branch__path__startswith=branch.path,
        paid_on__gte=date(year, 1, 1),
        paid_on__lte=date(year, 12, 31),
    )


def spending_by_category(branch: Branch, year: int) -> dict[str, int]:
    totals = dict.fromkeys(Category.values, 0)
    for category, total in (
        _payments(branch, year)
        .order_by()
        .values_list("disbursement__category")
        .annotate(total=Sum("amount_fen"))
        .values_list("disbursement__category", "total")
    ):
        totals[category] = total or 0
    return totals


def watch_compute(*, branch: Branch, year: int) -> CharityLawWatch:
    spending = spending_by_category(branch, year)
    prior = income_fen(branch, year - 1)
    total = sum(spending.values())
    related = _payments(branch, year).filter(disbursement__related_party=True)
    summary = related.aggregate(count=Count("id"), total=Sum("amount_fen"))
    rows = [
        RelatedPartyPayment(
            paid_on=payment.paid_on,
            disbursement=payment.disbursement.number,
            payee=payment.disbursement.payee.name,
            relation=payment.disbursement.payee.related_party_note,
            category=payment.disbursement.get_category_display(),
            amount_fen=payment.amount_fen,
        )
        for payment in related.select_related("disbursement__payee").order_by("paid_on", "id")[
            :RELATED_PARTY_LIST_MAX
        ]
    ]
    return CharityLawWatch(
        branch=branch,
        year=year,
        income_fen=income_fen(branch, year),
        prior_income_fen=prior,
        charitable_fen=spending[Category.CHARITABLE],
        management_fen=spending[Category.MANAGEMENT],
        fundraising_fen=spending[Category.FUNDRAISING],
        spending=Ratio(spending[Category.CHARITABLE], prior, settings.CHARITY_SPENDING_MIN_PERCENT, True),
        management=Ratio(
            spending[Category.MANAGEMENT], total, settings.CHARITY_MANAGEMENT_MAX_PERCENT, False
        ),
        related_party_count=summary["count"] or 0,
        related_party_fen=summary["total"] or 0,
        related_party=rows,
    )


# --- access ---------------------------------------------------------------------------


def may_watch(user: User, branch: Branch) -> bool:
    return any(in_scope(user, perm, branch) for perm in WATCH_PERMS)


def watch_branches(user: User) -> QuerySet[Branch]:
    """Branches whose watch `user` may read, in tree order."""
    pks: set[int] = set()
    for perm in WATCH_PERMS:
        pks.update(branches_for(user, perm).values_list("pk", flat=True))
    branches: QuerySet[Branch] = Branch.objects.filter(pk__in=pks, is_active=True).order_by("path")
    return branches


def watch_for_viewer(*, user: User, branch: Branch, year: int) -> CharityLawWatch:
    if not may_watch(user, branch):
        raise PermissionDenied(_("The Charity Law watch of this branch is not shown to you."))
    return watch_compute(branch=branch, year=year)


# --- the workbench --------------------------------------------------------------------


WATCH_CACHE_SECONDS = 3600


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@inbox.register("disbursements.charity_law_watch")
def watch_inbox(user: User, branch: Branch) -> list[inbox.InboxItem]:
    """Last year's Art 61 ratios when one is at risk, and this year's related-party payments."""
    if not may_watch(user, branch):
        return []
    url = _url("bank_statements:charity_law")
    items: list[inbox.InboxItem] = []
    # Only the figures the two ratios need (three aggregates), not the whole watch.
    # A closed year's figures hardly move, and the workbench is opened all day:
    # they are kept an hour per branch rather than summed over the donations again.
    last = china_year() - 1
    key = f"rendao:watch:{branch.pk}:{last}"
    figures = cache.get(key)
    if figures is None:
        figures = (spending_by_category(branch, last), income_fen(branch, last - 1))
        cache.set(key, figures, WATCH_CACHE_SECONDS)
    spending, prior_income = figures
    ratios = (
        Ratio(
            spending[Category.CHARITABLE],
            prior_income,
            settings.CHARITY_SPENDING_MIN_PERCENT,
            True,
        ),
        Ratio(
            spending[Category.MANAGEMENT],
            sum(spending.values()),
            settings.CHARITY_MANAGEMENT_MAX_PERCENT,
            False,
        ),
    )
    if any(ratio.ok is False for ratio in ratios):
        items.append(
            inbox.InboxItem(
                gettext_lazy("Charity Law Art 61: a spending ratio is at risk"), f"{url}?year={last}", 1
            )
        )
    current = _payments(branch, china_year()).filter(disbursement__related_party=True).count()
    if current:
        items.append(inbox.InboxItem(gettext_lazy("Related-party payments this year (Art 40)"), url, current))
    return items


@inbox.register("disbursements.statement_differences")
def differences_inbox(user: User, branch: Branch) -> list[inbox.InboxItem]:
    """Unresolved bank statement differences of the branch's subtree, for its finance staff."""
    if not in_scope(user, Perm.FINANCE_MANAGE, branch):
        return []
    count = StatementDifference.objects.filter(
        Q(statement__branch__path__startswith=branch.path), resolved_at__isnull=True
    ).count()
    url = _url("bank_statements:statement_list")
    return [inbox.InboxItem(gettext_lazy("Unresolved bank statement differences"), url, count)]

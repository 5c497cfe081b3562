"""The public figures of a project, a branch (with the branches under it) or the society.

One module computes every number the disclosure pages, the public JSON, the
drafted disclosures and the 慈善中国 export show, so they can never disagree.

Sources, all constant in the number of donations:
- income: `funds.DailyTotal` rows (one per project, day, channel, co-initiator),
  kept in the payment / refund transaction (rendao/funds/daily.py);
- spending: disbursement payments (`disbursements.Payment`) by category and payee;
- goods: lots received for the project and what was issued to recipients;
- balance: the project's restricted fund account (restricted projects), or
  income − paid out (unrestricted projects, whose money sits in the branch's
  general fund).

Every total carries its detail lines; `checks` are the published consistency
proofs (each a named equation with both sides), recomputed by the public JSON.
Amounts are integer fen. A `period` of None means since the project opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from rendao.core.models import Branch
    from rendao.funds.models import DailyTotal, FundraisingProject


@dataclass(frozen=True)
class Line:
    """One detail line: `key` is stable (a channel code, a category value, an id)."""

    key: str
    label: str
    count: int
    amount_fen: int
    # Supporting documents on file for this line (payees): counted, not linked,
    # as the documents themselves are not public.
    documents: int = 0


@dataclass(frozen=True)
class DayLine:
    day: date
    count: int
    received_fen: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.refunded_fen


@dataclass(frozen=True)
class Check:
    """A published equation: `left` (a total) must equal `right` (the sum it claims)."""

    key: str
    label: str
    left_fen: int
    right_fen: int

    @property
    def holds(self) -> bool:
        return self.left_fen == self.right_fen


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass
class Figures:
    """What one project, branch subtree or the whole society received, spent and holds."""

    period: Period | None
    received_count: int = 0
    received_fen: int = 0
    refunded_fen: int = 0
    by_day: list[DayLine] = field(default_factory=list)
    by_channel: list[Line] = field(default_factory=list)
    by_partner: list[Line] = field(default_factory=list)
    paid_out_fen: int = 0
    by_category: list[Line] = field(default_factory=list)
    by_payee: list[Line] = field(default_factory=list)
    # Branch and society only: paid from a general fund, for no project.
    general_paid_out_fen: int = 0
    general_by_category: list[Line] = field(default_factory=list)
    general_by_payee: list[Line] = field(default_factory=list)
    # Approved disbursements not paid yet (promised; still in the balance).
    reserved_fen: int = 0
    balance_fen: int = 0
    goods_received_value_fen: int = 0
    goods_issued_value_fen: int = 0
    goods_received: list[Line] = field(default_factory=list)
    goods_issued: list[Line] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def net_income_fen(self) -> int:
        return self.received_fen - self.refunded_fen

    @property
    def consistent(self) -> bool:
        return all(check.holds for check in self.checks)


# Disbursements approved and still owing part of their amount: promised money.
APPROVED_UNPAID = ("approved", "partly_paid")
# Distribution orders whose goods have left the warehouse.
ISSUED_ORDERS = ("issued", "signed_off", "shortfall", "closed")


@dataclass(frozen=True)
class _Scope:
    """The projects covered, as lookups on FundraisingProject."""

    lookups: dict[str, Any]
    # Set for one restricted project: its fund account is the balance.
    restricted_project: FundraisingProject | None = None
    # Set for a branch subtree: its general-fund spending and goods given without
    # a project are counted too.
    branch_path: str | None = None

    def via(self, prefix: str) -> dict[str, Any]:
        """The same filter from a model that reaches the project through `prefix`."""
        return {f"{prefix}__{key}": value for key, value in self.lookups.items()}


def _int(value: Any) -> int:
    return int(value or 0)


def _daily_by(rows: QuerySet[DailyTotal], field: str) -> list[dict[str, Any]]:
    """Daily totals summed by one of their fields, in that field's order."""
    grouped = (
        rows.order_by()
        .values(field)
        .annotate(n=Sum("received_count"), got=Sum("received_fen"), back=Sum("refunded_fen"))
        .order_by(field)
    )
    return [dict(r) for r in grouped]


def _income(figures: Figures, scope: _Scope, period: Period | None) -> None:
    from rendao.funds.models import CoInitiator, DailyTotal
    from rendao.funds.payments import CHANNEL_LABELS

    rows = DailyTotal.objects.filter(**scope.via("project"))
    if period is not None:
        rows = rows.filter(day__gte=period.start, day__lte=period.end)
    total = rows.aggregate(n=Sum("received_count"), got=Sum("received_fen"), back=Sum("refunded_fen"))
    figures.received_count = _int(total["n"])
    figures.received_fen = _int(total["got"])
    figures.refunded_fen = _int(total["back"])
    figures.by_day = [
        DayLine(day=r["day"], count=_int(r["n"]), received_fen=_int(r["got"]), refunded_fen=_int(r["back"]))
        for r in _daily_by(rows, "day")
    ]
    figures.by_channel = [
        Line(
            key=r["channel"],
            label=str(CHANNEL_LABELS.get(r["channel"], r["channel"])),
            count=_int(r["n"]),
            amount_fen=_int(r["got"]) - _int(r["back"]),
        )
        for r in _daily_by(rows, "channel")
    ]
    partners = list(_daily_by(rows, "partner"))
    ids = [r["partner"] for r in partners if r["partner"]]
    names: dict[int, str] = (
        dict(CoInitiator.objects.filter(pk__in=ids).values_list("pk", "organisation_name")) if ids else {}
    )
    figures.by_partner = [
        Line(
            key=str(r["partner"]),
            label=names.get(r["partner"], "") if r["partner"] else _("Directly (no co-initiator)"),
            count=_int(r["n"]),
            amount_fen=_int(r["got"]) - _int(r["back"]),
        )
        for r in partners
    ]


def _payment_lines(payments: QuerySet[Any]) -> tuple[int, list[Line], list[Line]]:
    """Total paid, by category and by payee (with their documents on file) of `payments`."""
    from rendao.disbursements.models import Category, Disbursement

    total = _int(payments.aggregate(s=Sum("amount_fen"))["s"])
    labels = dict(Category.choices)
    by_category = [
        Line(
            key=r["disbursement__category"],
            label=str(labels.get(r["disbursement__category"], r["disbursement__category"])),
            count=r["n"],
            amount_fen=_int(r["s"]),
        )
        for r in payments.order_by()
        .values("disbursement__category")
        .annotate(n=Count("id"), s=Sum("amount_fen"))
        .order_by("disbursement__category")
    ]
    by_payee = list(
        payments.order_by()
        .values("disbursement__payee_id", "disbursement__payee__name")
        .annotate(n=Count("id"), s=Sum("amount_fen"))
        .order_by("disbursement__payee__name", "disbursement__payee_id")
    )
    # Documents of the disbursements paid to each payee in the period: one grouped query.
    documents: dict[int, int] = {}
    if by_payee:
        through = Disbursement.documents.through
        per_payee = (
            through.objects.filter(disbursement__in=payments.values("disbursement_id"))
            .order_by()
            .values("disbursement__payee_id")
            .annotate(n=Count("id"))
        )
        documents = {r["disbursement__payee_id"]: r["n"] for r in per_payee}
    payee_lines = [
        Line(
            key=str(r["disbursement__payee_id"]),
            label=r["disbursement__payee__name"],
            count=r["n"],
            amount_fen=_int(r["s"]),
            documents=documents.get(r["disbursement__payee_id"], 0),
        )
        for r in by_payee
    ]
    return total, by_category, payee_lines


def _spending(figures: Figures, scope: _Scope, period: Period | None) -> None:
    from rendao.disbursements.models import Disbursement, Payment

    payments = Payment.objects.filter(**scope.via("disbursement__project"))
    if period is not None:
        payments = payments.filter(paid_on__gte=period.start, paid_on__lte=period.end)
    figures.paid_out_fen, figures.by_category, figures.by_payee = _payment_lines(payments)
    if scope.branch_path is not None:
        # Paid from a general fund of a branch in the subtree: no project, so no
        # project's income to set it against — shown apart, with its own sums.
        general = Payment.objects.filter(
            disbursement__project__isnull=True, disbursement__branch__path__startswith=scope.branch_path
        )
        if period is not None:
            general = general.filter(paid_on__gte=period.start, paid_on__lte=period.end)
        figures.general_paid_out_fen, figures.general_by_category, figures.general_by_payee = _payment_lines(
            general
        )
    # Reserved is what is promised now, whatever the period.
    figures.reserved_fen = _int(
        Disbursement.objects.filter(status__in=APPROVED_UNPAID, **scope.via("project")).aggregate(
            s=Sum(F("amount_fen") - F("paid_fen"))
        )["s"]
    )


def _goods_filter(scope: _Scope, via: str) -> Q:
    """Goods of the scope's projects; for a branch subtree also goods given to its
    branches for no project (`via` reaches the intake or order, which has both)."""
    condition = Q(**scope.via(f"{via}__project"))
    if scope.branch_path is not None:
        condition |= Q(
            **{f"{via}__project__isnull": True, f"{via}__branch__path__startswith": scope.branch_path}
        )
    return condition


def _goods(figures: Figures, scope: _Scope, period: Period | None) -> None:
    from rendao.goods.models import Lot, Pick

    lots = Lot.objects.filter(_goods_filter(scope, "intake"))
    if period is not None:
        lots = lots.filter(intake__received_on__gte=period.start, intake__received_on__lte=period.end)
    figures.goods_received = [
        Line(
            key=f"{r['item_name']} ({r['unit']})",
            label=r["item_name"],
            count=_int(r["n"]),
            amount_fen=_int(r["s"]),
        )
        for r in lots.order_by()
        .values("item_name", "unit")
        .annotate(n=Sum("quantity_received"), s=Sum(F("quantity_received") * F("unit_value_fen")))
        .order_by("item_name", "unit")
    ]
    figures.goods_received_value_fen = _int(
        lots.aggregate(s=Sum(F("quantity_received") * F("unit_value_fen")))["s"]
    )
    picks = Pick.objects.filter(_goods_filter(scope, "line__order"), line__order__status__in=ISSUED_ORDERS)
    if period is not None:
        start, end = _day_bounds(period)
        picks = picks.filter(line__order__issued_at__gte=start, line__order__issued_at__lt=end)
    figures.goods_issued = [
        Line(
            key=f"{r['lot__item_name']} ({r['lot__unit']})",
            label=r["lot__item_name"],
            count=_int(r["n"]),
            amount_fen=_int(r["s"]),
        )
        for r in picks.order_by()
        .values("lot__item_name", "lot__unit")
        .annotate(n=Sum("quantity"), s=Sum(F("quantity") * F("lot__unit_value_fen")))
        .order_by("lot__item_name", "lot__unit")
    ]
    figures.goods_issued_value_fen = _int(
        picks.aggregate(s=Sum(F("quantity") * F("lot__unit_value_fen")))["s"]
    )


def _day_bounds(period: Period) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(period.start, time.min, tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _balance_until(scope: _Scope, end: date) -> int:
    """Net income minus paid out up to and including `end` (the balance at a period's end)."""
    from rendao.disbursements.models import Payment
    from rendao.funds.models import DailyTotal

    income = DailyTotal.objects.filter(day__lte=end, **scope.via("project")).aggregate(
        s=Sum(F("received_fen") - F("refunded_fen"))
    )["s"]
    paid = Payment.objects.filter(paid_on__lte=end, **scope.via("disbursement__project")).aggregate(
        s=Sum("amount_fen")
    )["s"]
    return _int(income) - _int(paid)


def _check(key: str, label: str, left: int, right: int) -> Check:
    return Check(key=key, label=label, left_fen=left, right_fen=right)


def _sum_checks(figures: Figures) -> list[Check]:
    """Every total equals the sum of its published detail lines."""
    f = figures
    return [
        _check(
            "received_by_day",
            _("Received = sum of the days"),
            f.received_fen,
            sum(d.received_fen for d in f.by_day),
        ),
        _check(
            "refunded_by_day",
            _("Refunded = sum of the days"),
            f.refunded_fen,
            sum(d.refunded_fen for d in f.by_day),
        ),
        _check(
            "net_income_by_channel",
            _("Net income = sum by payment channel"),
            f.net_income_fen,
            sum(line.amount_fen for line in f.by_channel),
        ),
        _check(
            "net_income_by_partner",
            _("Net income = sum by co-initiator"),
            f.net_income_fen,
            sum(line.amount_fen for line in f.by_partner),
        ),
        _check(
            "paid_out_by_category",
            _("Paid out = sum by category"),
            f.paid_out_fen,
            sum(line.amount_fen for line in f.by_category),
        ),
        _check(
            "paid_out_by_payee",
            _("Paid out = sum by payee"),
            f.paid_out_fen,
            sum(line.amount_fen for line in f.by_payee),
        ),
        _check(
            "goods_received_by_item",
            _("Goods received = sum by item"),
            f.goods_received_value_fen,
            sum(line.amount_fen for line in f.goods_received),
        ),
        _check(
            "goods_issued_by_item",
            _("Goods distributed = sum by item"),
            f.goods_issued_value_fen,
            sum(line.amount_fen for line in f.goods_issued),
        ),
    ]


def _figures(scope: _Scope, period: Period | None, counters: tuple[int, int] | None) -> Figures:
    from rendao.funds.models import Account

    figures = Figures(period=period)
    _income(figures, scope, period)
    _spending(figures, scope, period)
    _goods(figures, scope, period)
    figures.checks = _sum_checks(figures)
    if period is not None:
        figures.balance_fen = _balance_until(scope, period.end)
        return figures
    book_balance = figures.net_income_fen - figures.paid_out_fen
    figures.balance_fen = book_balance
    project = scope.restricted_project
    if project is not None:
        fund = (
            Account.objects.filter(project=project, kind=Account.Kind.RESTRICTED_FUND)
            .values_list("balance_fen", flat=True)
            .first()
        )
        if fund is not None:
            # A restricted project's money is its fund account: show what the books hold.
            figures.balance_fen = fund
            figures.checks.append(
                _check(
                    "fund_account",
                    _("Restricted fund account balance = net income − paid out"),
                    fund,
                    book_balance,
                )
            )
    figures.checks.append(
        _check(
            "net_income_allocated",
            _("Net income = paid out + balance"),
            figures.net_income_fen,
            figures.paid_out_fen + figures.balance_fen,
        )
    )
    if counters is not None:
        raised = counters[0]
        figures.checks.append(
            _check(
                "raised_counter",
                _("Amount raised shown on the project page = sum of the daily net income"),
                raised,
                figures.net_income_fen,
            )
        )
    return figures


def project_figures(project: FundraisingProject, period: Period | None = None) -> Figures:
    """The figures of one project, for `period` or since it opened."""
    scope = _Scope(lookups={"pk": project.pk}, restricted_project=project if project.restricted else None)
    return _figures(scope, period, (project.raised_fen, project.donation_count))


def branch_figures(branch: Branch, period: Period | None = None) -> Figures:
    """The figures of every public project of `branch` and the branches under it
    (the city branch = the society): income and spending of those projects (by_day
    is by the day across them), plus what the subtree's general funds paid out for
    no project (`general_*`, apart: their income is not all online gifts) and goods
    given to its branches for no project."""
    from rendao.funds.models import FundraisingProject
    from rendao.funds.selectors import PUBLIC_STATUSES

    lookups = {"branch__path__startswith": branch.path, "status__in": PUBLIC_STATUSES}
    raised = FundraisingProject.objects.filter(**lookups).aggregate(
        r=Sum("raised_fen"), n=Sum("donation_count")
    )
    scope = _Scope(lookups=lookups, branch_path=branch.path)
    figures = _figures(scope, period, (_int(raised["r"]), _int(raised["n"])))
    f = figures
    f.checks.extend(
        [
            _check(
                "general_paid_out_by_category",
                _("Paid from general funds = sum by category"),
                f.general_paid_out_fen,
                sum(line.amount_fen for line in f.general_by_category),
            ),
            _check(
                "general_paid_out_by_payee",
                _("Paid from general funds = sum by payee"),
                f.general_paid_out_fen,
                sum(line.amount_fen for line in f.general_by_payee),
            ),
        ]
    )
    if period is None:
        figures.checks.extend(_restricted_funds_check(lookups))
    return figures


def _restricted_funds_check(lookups: dict[str, Any]) -> list[Check]:
    """The restricted projects' fund accounts together hold their net income less their spending."""
    from rendao.funds.models import Account

    restricted = _Scope(lookups={**lookups, "restricted": True})
    accounts = _int(
        Account.objects.filter(kind=Account.Kind.RESTRICTED_FUND, **restricted.via("project")).aggregate(
            s=Sum("balance_fen")
        )["s"]
    )
    return [
        _check(
            "restricted_fund_accounts",
            _("Restricted fund accounts = their projects' net income − paid out"),
            accounts,
            _balance_until(restricted, date.max),
        )
    ]


def as_disclosure_figures(figures: Figures) -> dict[str, int]:
    """The flat {label: fen} a `Disclosure.figures` holds, with stable English keys
    (received, refunded, net_income, paid_out, paid_out:<category>, reserved,
    balance, goods_received_value, goods_issued_value)."""
    flat: dict[str, int] = {
        "received": figures.received_fen,
        "refunded": figures.refunded_fen,
        "net_income": figures.net_income_fen,
        "paid_out": figures.paid_out_fen,
    }
    for line in figures.by_category:
        flat[f"paid_out:{line.key}"] = line.amount_fen
    flat.update(
        {
            "reserved": figures.reserved_fen,
            "balance": figures.balance_fen,
            "goods_received_value": figures.goods_received_value_fen,
            "goods_issued_value": figures.goods_issued_value_fen,
        }
    )
    return flat

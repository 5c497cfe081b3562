"""The statutory disclosure calendar: which disclosures are due, when, and whether they were made.

A pure rules engine. It takes plain facts (dataclasses, not Django models) so the
rules can be tested with controlled dates and reused by the workbench, the
notifications and the public pages alike; an adapter elsewhere maps
``FundraisingProject`` and ``Disbursement`` rows onto these facts. The rules and the
choices made in reading them are documented in ``docs/disclosure-calendar.md``.

Dates are calendar dates in the society's local time (Asia/Shanghai): callers pass
``timezone.localdate()`` as ``today``, never a naive ``date.today()``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DEFAULT_RULES",
    "AnnualFiling",
    "DisclosureKind",
    "Due",
    "DueStatus",
    "MonthDay",
    "ProjectFacts",
    "Published",
    "Rules",
    "TransactionFacts",
    "add_months",
    "dues_for",
    "effective_end",
    "is_long_project",
]


class DisclosureKind(models.TextChoices):
    PROGRESS_QUARTERLY = "progress_quarterly", _("Quarterly progress (Charity Law Art 79)")
    FINAL_ACCOUNT = "final_account", _("Full account after the end (Charity Law Art 79)")
    EMERGENCY_RECEIPTS = "emergency_receipts", _("Emergency receipts every 5 days (Charity Law Art 72)")
    RELATED_PARTY = "related_party", _("Related-party transaction (MCA Order 81)")
    MAJOR_TRANSACTION = "major_transaction", _("Major transaction (MCA Order 81)")
    ANNUAL_REPORT = "annual_report", _("Annual work report")
    ANNUAL_AUDIT = "annual_audit", _("Annual audit report")


class DueStatus(models.TextChoices):
    DONE = "done", _("Done")
    DUE = "due", _("Due")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


TransactionKind = Literal["related_party", "major"]

_TRANSACTION_DISCLOSURE: dict[str, DisclosureKind] = {
    "related_party": DisclosureKind.RELATED_PARTY,
    "major": DisclosureKind.MAJOR_TRANSACTION,
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the target month's last day.

    31 Jan + 1 month is 28 Feb (29 Feb in a leap year), as people count deadlines.
    Callers anchor every period on the original date (``add_months(start, 3 * k)``)
    rather than chaining, so a 31st stays a 31st wherever the month allows it.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MonthDay:
    """A fixed day of the year (e.g. 31 May) for the annual deadlines."""

    month: int
    day: int

    def __post_init__(self) -> None:
        # Validated against a leap year so 29 Feb is accepted; in other years it clamps.
        date(2024, self.month, self.day)

    def in_year(self, year: int) -> date:
        return date(year, self.month, min(self.day, calendar.monthrange(year, self.month)[1]))


@dataclass(frozen=True)
class Rules:
    """The numbers of the rules, so a change in the law or a local practice is a setting."""

    # Charity Law Art 79: "longer than 6 months" -> at least every 3 months.
    long_project_months: int = 6
    progress_months: int = 3
    # Days after the 3-month anniversary before a progress disclosure is late. The
    # law says "at least every 3 months", so the default gives none.
    progress_grace_days: int = 0
    # Charity Law Art 79: full account within 3 months of the end.
    final_account_months: int = 3
    # Charity Law Art 72: emergency receipts at least every 5 days during the response.
    emergency_days: int = 5
    # MCA Order 81 (2026-01-01): major and related-party transactions within 30 days.
    transaction_days: int = 30
    # Annual work report and audit for year Y are due on this day of Y+1. 31 May is the
    # civil-affairs annual-report practice (verify): a setting, not a statute here.
    annual_report_due: MonthDay = MonthDay(5, 31)
    annual_audit_due: MonthDay = MonthDay(5, 31)


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class ProjectFacts:
    """What the rules need of a fundraising project or campaign.

    ``start`` is the day the fundraising opened (the plan's start date unless it opened
    on another day), ``end`` the plan's end date, ``closed_on`` the day it actually
    closed if it has.
    """

    key: str
    title: str
    start: date
    end: date
    emergency: bool
    closed_on: date | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end must not be before start")


@dataclass(frozen=True)
class TransactionFacts:
    """A major or related-party transaction (MCA Order 81), e.g. a related-party disbursement."""

    key: str
    kind: TransactionKind
    occurred_on: date

    def __post_init__(self) -> None:
        if self.kind not in _TRANSACTION_DISCLOSURE:
            raise ValueError(f"unknown transaction kind {self.kind!r}")


@dataclass(frozen=True)
class Published:
    """A disclosure already published: its subject, kind, the last day its data covers."""

    subject: str
    kind: DisclosureKind
    covers_until: date
    published_on: date


@dataclass(frozen=True)
class AnnualFiling:
    """When the annual report and the audit report of one year were published."""

    report_published_on: date | None = None
    audit_published_on: date | None = None


@dataclass(frozen=True)
class Due:
    """One disclosure the law asks for: what, for which period, by when, and its state."""

    subject: str
    kind: DisclosureKind
    period_start: date
    period_end: date
    due_on: date
    status: DueStatus
    satisfied_by: Published | None = None
    # Done, but published after due_on: still done (the public sees it), yet the
    # workbench and the audit trail must show that the deadline was missed.
    late: bool = False


@dataclass(frozen=True)
class _Slot:
    subject: str
    kind: DisclosureKind
    period_start: date
    period_end: date
    due_on: date
    # Annual items are matched to their own year only; the others accept any later
    # disclosure of the kind whose data reaches the period end (cumulative reports).
    exact_period: bool = False


def effective_end(project: ProjectFacts) -> date:
    """The day the project's obligations stop running: the planned end, or closed_on if earlier.

    A close after the planned end does not extend it (the plan's dates are what
    was filed); a close before the start counts as closing on the start day.
    """
    end = project.end
    if project.closed_on is not None and project.closed_on < end:
        end = max(project.closed_on, project.start)
    return end


def is_long_project(project: ProjectFacts, rules: Rules = DEFAULT_RULES) -> bool:
    """Art 79 "longer than 6 months", measured on the plan: end > start + 6 calendar months.

    Exactly six months (1 Jan to 1 Jul) is not longer; one more day is. The plan,
    not an early close, decides: the duty for quarters already past stands.
    """
    return project.end > add_months(project.start, rules.long_project_months)


def _until_next(periods: Iterable[_Slot], today: date) -> Iterator[_Slot]:
    """The periods already ended before today, then the first one still running or to come."""
    for slot in periods:
        yield slot
        if slot.period_end >= today:
            return


def _progress_slots(project: ProjectFacts, rules: Rules) -> Iterator[_Slot]:
    end = effective_end(project)
    k = 1
    while True:
        period_start = add_months(project.start, rules.progress_months * (k - 1))
        # Anchored on the start each time, so a 31 Jan start gives 30 Apr, 31 Jul, ...
        anniversary = add_months(project.start, rules.progress_months * k)
        period_end = anniversary - timedelta(days=1)
        # A quarter that reaches the end is covered by the final account instead.
        if period_end >= end:
            return
        yield _Slot(
            project.key,
            DisclosureKind.PROGRESS_QUARTERLY,
            period_start,
            period_end,
            anniversary + timedelta(days=rules.progress_grace_days),
        )
        k += 1


def _emergency_slots(project: ProjectFacts, rules: Rules) -> Iterator[_Slot]:
    end = effective_end(project)
    step = timedelta(days=rules.emergency_days)
    period_start = project.start
    while period_start <= end:
        due_on = period_start + step
        # The last window stops at the end of the response; its due day stays the 5th day.
        period_end = min(due_on - timedelta(days=1), end)
        yield _Slot(project.key, DisclosureKind.EMERGENCY_RECEIPTS, period_start, period_end, due_on)
        period_start = due_on


def _project_slots(project: ProjectFacts, rules: Rules, today: date) -> Iterator[_Slot]:
    if is_long_project(project, rules):
        yield from _until_next(_progress_slots(project, rules), today)
    if project.emergency:
        yield from _until_next(_emergency_slots(project, rules), today)
    end = effective_end(project)
    yield _Slot(
        project.key,
        DisclosureKind.FINAL_ACCOUNT,
        project.start,
        end,
        add_months(end, rules.final_account_months),
    )


def _annual_slots(society_key: str, years: Iterable[int], rules: Rules) -> Iterator[_Slot]:
    for year in years:
        first, last = date(year, 1, 1), date(year, 12, 31)
        for kind, due in (
            (DisclosureKind.ANNUAL_REPORT, rules.annual_report_due),
            (DisclosureKind.ANNUAL_AUDIT, rules.annual_audit_due),
        ):
            yield _Slot(society_key, kind, first, last, due.in_year(year + 1), exact_period=True)


def _status(slot: _Slot, match: Published | None, today: date, soon_days: int) -> Due:
    if match is not None:
        status, late = DueStatus.DONE, match.published_on > slot.due_on
    elif today > slot.due_on:
        status, late = DueStatus.OVERDUE, False
    elif (slot.due_on - today).days <= soon_days:
        status, late = DueStatus.DUE_SOON, False
    else:
        status, late = DueStatus.DUE, False
    return Due(
        subject=slot.subject,
        kind=slot.kind,
        period_start=slot.period_start,
        period_end=slot.period_end,
        due_on=slot.due_on,
        status=status,
        satisfied_by=match,
        late=late,
    )


@dataclass
class _Index:
    """Publications by (subject, kind), earliest published first, so the first match is the best."""

    by_subject_kind: dict[tuple[str, DisclosureKind], list[Published]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def match(self, slot: _Slot) -> Published | None:
        for item in self.by_subject_kind.get((slot.subject, slot.kind), ()):
            if item.covers_until < slot.period_end:
                continue
            if slot.exact_period and item.covers_until > slot.period_end:
                continue
            return item
        return None


def _index(published: Iterable[Published], today: date) -> _Index:
    index = _Index()
    for item in published:
        # A publication dated after today has not happened yet as far as the calendar knows.
        if item.published_on <= today:
            index.by_subject_kind[(item.subject, item.kind)].append(item)
    for items in index.by_subject_kind.values():
        items.sort(key=lambda p: (p.published_on, p.covers_until))
    return index


def _annual_published(society_key: str, year_reports: Mapping[int, AnnualFiling]) -> Iterator[Published]:
    for year, filing in year_reports.items():
        last = date(year, 12, 31)
        if filing.report_published_on is not None:
            yield Published(society_key, DisclosureKind.ANNUAL_REPORT, last, filing.report_published_on)
        if filing.audit_published_on is not None:
            yield Published(society_key, DisclosureKind.ANNUAL_AUDIT, last, filing.audit_published_on)


def dues_for(
    *,
    projects: Sequence[ProjectFacts],
    transactions: Sequence[TransactionFacts],
    published: Sequence[Published],
    year_reports: Mapping[int, AnnualFiling],
    today: date,
    soon_days: int = 7,
    rules: Rules = DEFAULT_RULES,
    society_key: str = "society",
    first_year: int | None = None,
) -> list[Due]:
    """Every disclosure due up to ``today``, plus the next upcoming one per subject and kind.

    "Up to today" means every period that ended before today, whatever its state
    (done items stay in the list as the record); "next upcoming" is the first
    period still running or yet to start. Single-shot items (final account,
    transactions) are always listed. Annual items run from ``first_year`` (default:
    the earliest year among the reports, projects and transactions, else last year)
    to the current year. Subject keys must be unique across projects, transactions
    and ``society_key``. Sorted by due date.
    """
    if soon_days < 0:
        raise ValueError("soon_days must not be negative")
    slots: list[_Slot] = []
    for project in projects:
        slots.extend(_project_slots(project, rules, today))
    for transaction in transactions:
        slots.append(
            _Slot(
                transaction.key,
                _TRANSACTION_DISCLOSURE[transaction.kind],
                transaction.occurred_on,
                transaction.occurred_on,
                transaction.occurred_on + timedelta(days=rules.transaction_days),
            )
        )
    if first_year is None:
        candidates = [
            *year_reports.keys(),
            *(p.start.year for p in projects),
            *(t.occurred_on.year for t in transactions),
        ]
        first_year = min(candidates) if candidates else today.year - 1
    slots.extend(_annual_slots(society_key, range(first_year, today.year + 1), rules))

    index = _index([*published, *_annual_published(society_key, year_reports)], today)
    dues = [_status(slot, index.match(slot), today, soon_days) for slot in slots]
    dues.sort(key=lambda d: (d.due_on, d.subject, d.kind, d.period_start))
    return dues

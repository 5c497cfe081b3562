"""The disclosure calendar's rules with controlled dates; no database, no clock."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rendao.disclosure.calendar import (
    DEFAULT_RULES,
    AnnualFiling,
    DisclosureKind,
    Due,
    DueStatus,
    MonthDay,
    ProjectFacts,
    Published,
    Rules,
    TransactionFacts,
    add_months,
    dues_for,
    effective_end,
    is_long_project,
)

K = DisclosureKind
S = DueStatus


def project(
    start: date,
    end: date,
    *,
    key: str = "p1",
    emergency: bool = False,
    closed_on: date | None = None,
) -> ProjectFacts:
    return ProjectFacts(
        key=key, title="爱心小书包", start=start, end=end, emergency=emergency, closed_on=closed_on
    )


def dues(
    *,
    today: date,
    projects: Sequence[ProjectFacts] = (),
    transactions: Sequence[TransactionFacts] = (),
    published: Sequence[Published] = (),
    year_reports: dict[int, AnnualFiling] | None = None,
    rules: Rules = DEFAULT_RULES,
    first_year: int | None = None,
) -> list[Due]:
    return dues_for(
        projects=projects,
        transactions=transactions,
        published=published,
        year_reports=year_reports or {},
        today=today,
        rules=rules,
        first_year=first_year,
    )


def of_kind(items: list[Due], kind: DisclosureKind) -> list[Due]:
    return [d for d in items if d.kind == kind]


# add_months -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 8, 31), 0, date(2026, 8, 31)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31)), st.integers(-1200, 1200))
def test_add_months_moves_the_month_and_keeps_the_day_where_it_exists(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    if moved.day < day.day:
        # Only clamped when the target month is too short: the next day is the 1st.
        assert (moved + timedelta(days=1)).day == 1


# The 6-month boundary ---------------------------------------------------------------


def test_exactly_six_months_is_not_longer_than_six_months() -> None:
    assert not is_long_project(project(date(2026, 1, 1), date(2026, 7, 1)))
    assert is_long_project(project(date(2026, 1, 1), date(2026, 7, 2)))


def test_six_months_from_a_month_end() -> None:
    # 31 Aug + 6 months = 28 Feb: ending then is exactly six months.
    assert not is_long_project(project(date(2025, 8, 31), date(2026, 2, 28)))
    assert is_long_project(project(date(2025, 8, 31), date(2026, 3, 1)))


def test_a_short_project_has_no_quarterly_progress_but_a_final_account() -> None:
    items = dues(projects=[project(date(2026, 1, 1), date(2026, 7, 1))], today=date(2026, 6, 1))
    assert of_kind(items, K.PROGRESS_QUARTERLY) == []
    [final] = of_kind(items, K.FINAL_ACCOUNT)
    assert (final.period_start, final.period_end, final.due_on) == (
        date(2026, 1, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
    )
    assert final.status == S.DUE


# Quarterly progress (Art 79) --------------------------------------------------------

YEAR_PROJECT = project(date(2026, 1, 1), date(2026, 12, 31))


def test_quarterly_periods_and_due_days() -> None:
    items = of_kind(dues(projects=[YEAR_PROJECT], today=date(2026, 7, 15)), K.PROGRESS_QUARTERLY)
    assert [(d.period_start, d.period_end, d.due_on) for d in items] == [
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 1)),
        # The running quarter: the next upcoming one.
        (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1)),
    ]
    assert [d.status for d in items] == [S.OVERDUE, S.OVERDUE, S.DUE]


def test_the_quarter_reaching_the_end_is_left_to_the_final_account() -> None:
    items = dues(projects=[YEAR_PROJECT], today=date(2027, 1, 15))
    assert [d.period_end for d in of_kind(items, K.PROGRESS_QUARTERLY)] == [
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
    ]
    [final] = of_kind(items, K.FINAL_ACCOUNT)
    assert final.due_on == date(2027, 3, 31)


def test_quarterly_done_done_late_due_soon_and_overdue() -> None:
    published = [
        Published("p1", K.PROGRESS_QUARTERLY, covers_until=date(2026, 3, 31), published_on=date(2026, 4, 1)),
    ]
    items = of_kind(
        dues(projects=[YEAR_PROJECT], today=date(2026, 9, 25), published=published), K.PROGRESS_QUARTERLY
    )
    q1, q2, q3 = items
    assert (q1.status, q1.late, q1.satisfied_by) == (S.DONE, False, published[0])
    assert q2.status == S.OVERDUE
    assert (q3.status, q3.due_on) == (S.DUE_SOON, date(2026, 10, 1))  # 6 days ahead

    # Q2 published late: done, but flagged. Q1 keeps its earliest (on-time)
    # publication as its record, though the later report also reaches its end.
    late = Published(
        "p1", K.PROGRESS_QUARTERLY, covers_until=date(2026, 6, 30), published_on=date(2026, 7, 20)
    )
    q1, q2, _q3 = of_kind(
        dues(projects=[YEAR_PROJECT], today=date(2026, 9, 25), published=[*published, late]),
        K.PROGRESS_QUARTERLY,
    )
    assert (q1.status, q1.late, q1.satisfied_by) == (S.DONE, False, published[0])
    assert (q2.status, q2.late, q2.satisfied_by) == (S.DONE, True, late)


def test_a_disclosure_not_reaching_the_period_end_or_of_another_subject_does_not_count() -> None:
    published = [
        Published("p1", K.PROGRESS_QUARTERLY, covers_until=date(2026, 3, 30), published_on=date(2026, 3, 31)),
        Published("p2", K.PROGRESS_QUARTERLY, covers_until=date(2026, 3, 31), published_on=date(2026, 4, 1)),
        Published("p1", K.FINAL_ACCOUNT, covers_until=date(2026, 3, 31), published_on=date(2026, 4, 1)),
    ]
    q1 = of_kind(
        dues(projects=[YEAR_PROJECT], today=date(2026, 4, 2), published=published), K.PROGRESS_QUARTERLY
    )[0]
    assert q1.status == S.OVERDUE


def test_a_publication_dated_after_today_is_ignored() -> None:
    future = Published(
        "p1", K.PROGRESS_QUARTERLY, covers_until=date(2026, 3, 31), published_on=date(2026, 4, 3)
    )
    q1 = of_kind(
        dues(projects=[YEAR_PROJECT], today=date(2026, 4, 2), published=[future]), K.PROGRESS_QUARTERLY
    )[0]
    assert q1.status == S.OVERDUE


def test_due_on_the_day_itself_is_due_soon_not_overdue() -> None:
    q1 = of_kind(dues(projects=[YEAR_PROJECT], today=date(2026, 4, 1)), K.PROGRESS_QUARTERLY)[0]
    assert q1.status == S.DUE_SOON
    q1 = of_kind(dues(projects=[YEAR_PROJECT], today=date(2026, 4, 2)), K.PROGRESS_QUARTERLY)[0]
    assert q1.status == S.OVERDUE


def test_quarters_are_anchored_on_the_start_at_month_ends() -> None:
    # Anchored, not chained: 31 Jan -> 30 Apr -> 31 Jul (chaining would drift to 30 Jul).
    p = project(date(2026, 1, 31), date(2027, 1, 31))
    items = of_kind(dues(projects=[p], today=date(2027, 2, 1)), K.PROGRESS_QUARTERLY)
    assert [d.due_on for d in items] == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),
    ]
    assert [d.period_start for d in items] == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
    ]


def test_quarters_from_a_leap_day() -> None:
    p = project(date(2024, 2, 29), date(2025, 3, 31))
    items = of_kind(dues(projects=[p], today=date(2025, 4, 1)), K.PROGRESS_QUARTERLY)
    assert [d.due_on for d in items] == [
        date(2024, 5, 29),
        date(2024, 8, 29),
        date(2024, 11, 29),
        date(2025, 2, 28),
    ]
    assert items[-1].period_end == date(2025, 2, 27)


def test_progress_grace_days_is_a_setting() -> None:
    rules = Rules(progress_grace_days=15)
    q1 = of_kind(dues(projects=[YEAR_PROJECT], today=date(2026, 4, 2), rules=rules), K.PROGRESS_QUARTERLY)[0]
    assert (q1.due_on, q1.status) == (date(2026, 4, 16), S.DUE)


# Final account and early close ------------------------------------------------------


def test_a_project_closed_early_stops_its_quarters_and_brings_the_final_account_forward() -> None:
    p = project(date(2026, 1, 1), date(2026, 12, 31), closed_on=date(2026, 5, 10))
    assert effective_end(p) == date(2026, 5, 10)
    items = dues(projects=[p], today=date(2026, 12, 1))
    assert [d.period_end for d in of_kind(items, K.PROGRESS_QUARTERLY)] == [date(2026, 3, 31)]
    [final] = of_kind(items, K.FINAL_ACCOUNT)
    assert (final.period_end, final.due_on, final.status) == (date(2026, 5, 10), date(2026, 8, 10), S.OVERDUE)


def test_a_close_after_the_planned_end_does_not_extend_it() -> None:
    p = project(date(2026, 1, 1), date(2026, 3, 31), closed_on=date(2026, 6, 1))
    [final] = of_kind(dues(projects=[p], today=date(2026, 6, 2)), K.FINAL_ACCOUNT)
    assert final.due_on == date(2026, 6, 30)


def test_final_account_three_months_after_a_month_end_end() -> None:
    p = project(date(2023, 6, 1), date(2023, 11, 30))
    [final] = of_kind(dues(projects=[p], today=date(2024, 1, 1)), K.FINAL_ACCOUNT)
    assert final.due_on == date(2024, 2, 29)
    done = Published("p1", K.FINAL_ACCOUNT, covers_until=date(2023, 11, 30), published_on=date(2024, 3, 1))
    [final] = of_kind(dues(projects=[p], today=date(2024, 3, 2), published=[done]), K.FINAL_ACCOUNT)
    assert (final.status, final.late) == (S.DONE, True)


def test_project_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="end"):
        project(date(2026, 2, 1), date(2026, 1, 31))


# Emergency receipts (Art 72) --------------------------------------------------------

EMERGENCY = project(date(2026, 3, 1), date(2026, 3, 20), key="flood", emergency=True)


def receipts(covers: date, on: date) -> Published:
    return Published("flood", K.EMERGENCY_RECEIPTS, covers_until=covers, published_on=on)


def test_emergency_receipts_every_five_days_with_a_gap() -> None:
    published = [receipts(date(2026, 3, 5), date(2026, 3, 6)), receipts(date(2026, 3, 10), date(2026, 3, 11))]
    items = of_kind(
        dues(projects=[EMERGENCY], today=date(2026, 3, 18), published=published), K.EMERGENCY_RECEIPTS
    )
    assert [(d.period_start, d.period_end, d.due_on, d.status) for d in items] == [
        (date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 6), S.DONE),
        (date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 11), S.DONE),
        (date(2026, 3, 11), date(2026, 3, 15), date(2026, 3, 16), S.OVERDUE),  # the gap
        (date(2026, 3, 16), date(2026, 3, 20), date(2026, 3, 21), S.DUE_SOON),
    ]
    # The gap filled by the next report: done late; the last window done on time.
    published.append(receipts(date(2026, 3, 20), date(2026, 3, 21)))
    items = of_kind(
        dues(projects=[EMERGENCY], today=date(2026, 3, 22), published=published), K.EMERGENCY_RECEIPTS
    )
    assert [(d.status, d.late) for d in items] == [
        (S.DONE, False),
        (S.DONE, False),
        (S.DONE, True),
        (S.DONE, False),
    ]


def test_emergency_windows_stop_at_an_early_close() -> None:
    p = project(date(2026, 3, 1), date(2026, 3, 31), key="flood", emergency=True, closed_on=date(2026, 3, 12))
    items = of_kind(dues(projects=[p], today=date(2026, 4, 30)), K.EMERGENCY_RECEIPTS)
    assert [(d.period_start, d.period_end, d.due_on) for d in items] == [
        (date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 6)),
        (date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 11)),
        (date(2026, 3, 11), date(2026, 3, 12), date(2026, 3, 16)),
    ]


def test_a_non_emergency_project_has_no_receipt_windows() -> None:
    assert of_kind(dues(projects=[YEAR_PROJECT], today=date(2026, 3, 18)), K.EMERGENCY_RECEIPTS) == []


# Transactions (MCA Order 81) --------------------------------------------------------

RELATED = TransactionFacts(key="d42", kind="related_party", occurred_on=date(2026, 1, 10))


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 1, 11), S.DUE),
        (date(2026, 2, 2), S.DUE_SOON),
        (date(2026, 2, 9), S.DUE_SOON),  # the 30th day
        (date(2026, 2, 10), S.OVERDUE),
    ],
)
def test_related_party_transaction_within_30_days(today: date, status: DueStatus) -> None:
    [item] = dues(transactions=[RELATED], today=today, first_year=today.year + 1)
    assert (item.subject, item.kind, item.due_on, item.status) == (
        "d42",
        K.RELATED_PARTY,
        date(2026, 2, 9),
        status,
    )


@pytest.mark.parametrize(("published_on", "late"), [(date(2026, 2, 9), False), (date(2026, 2, 10), True)])
def test_major_transaction_done_and_done_late(published_on: date, late: bool) -> None:
    major = TransactionFacts(key="t7", kind="major", occurred_on=date(2026, 1, 10))
    done = Published("t7", K.MAJOR_TRANSACTION, covers_until=date(2026, 1, 10), published_on=published_on)
    [item] = dues(transactions=[major], published=[done], today=date(2026, 3, 1), first_year=2027)
    assert (item.kind, item.status, item.late, item.satisfied_by) == (K.MAJOR_TRANSACTION, S.DONE, late, done)


def test_unknown_transaction_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        TransactionFacts(key="x", kind="gift", occurred_on=date(2026, 1, 1))  # type: ignore[arg-type]


# Annual report and audit ------------------------------------------------------------


def test_annual_report_and_audit_per_year() -> None:
    reports = {2025: AnnualFiling(report_published_on=date(2026, 4, 30))}
    items = dues(today=date(2026, 5, 25), year_reports=reports, first_year=2024)
    got = {(d.period_start.year, d.kind): (d.due_on, d.status, d.late) for d in items}
    assert got == {
        (2024, K.ANNUAL_REPORT): (date(2025, 5, 31), S.OVERDUE, False),
        (2024, K.ANNUAL_AUDIT): (date(2025, 5, 31), S.OVERDUE, False),
        (2025, K.ANNUAL_REPORT): (date(2026, 5, 31), S.DONE, False),
        (2025, K.ANNUAL_AUDIT): (date(2026, 5, 31), S.DUE_SOON, False),
        (2026, K.ANNUAL_REPORT): (date(2027, 5, 31), S.DUE, False),
        (2026, K.ANNUAL_AUDIT): (date(2027, 5, 31), S.DUE, False),
    }
    assert all(d.subject == "society" for d in items)


def test_a_later_years_report_does_not_satisfy_an_earlier_year() -> None:
    reports = {2025: AnnualFiling(report_published_on=date(2026, 5, 1), audit_published_on=date(2026, 6, 2))}
    items = dues(today=date(2026, 6, 3), year_reports=reports, first_year=2024)
    got = {(d.period_start.year, d.kind): (d.status, d.late) for d in items}
    assert got[(2024, K.ANNUAL_REPORT)] == (S.OVERDUE, False)
    assert got[(2025, K.ANNUAL_AUDIT)] == (S.DONE, True)


def test_annual_deadlines_are_settings() -> None:
    rules = Rules(annual_audit_due=MonthDay(4, 30))
    items = dues(today=date(2026, 5, 1), first_year=2025, rules=rules)
    audit_2025 = next(d for d in items if d.kind == K.ANNUAL_AUDIT and d.period_start.year == 2025)
    assert (audit_2025.due_on, audit_2025.status) == (date(2026, 4, 30), S.OVERDUE)
    with pytest.raises(ValueError, match="day"):
        MonthDay(2, 30)


def test_annual_years_default_to_the_earliest_fact() -> None:
    items = dues(projects=[YEAR_PROJECT], today=date(2027, 1, 5))
    assert sorted({d.period_start.year for d in items if d.kind == K.ANNUAL_REPORT}) == [2026, 2027]
    assert {d.period_start.year for d in dues(today=date(2027, 1, 5)) if d.kind == K.ANNUAL_REPORT} == {
        2026,
        2027,
    }


# Properties -------------------------------------------------------------------------

# How long after its period end each kind may fall due, in days (inclusive bounds).
ALLOWANCE: dict[DisclosureKind, tuple[int, int]] = {
    K.PROGRESS_QUARTERLY: (1, 1),
    K.EMERGENCY_RECEIPTS: (1, 5),
    K.FINAL_ACCOUNT: (89, 92),  # 3 calendar months
    K.RELATED_PARTY: (30, 30),
    K.MAJOR_TRANSACTION: (30, 30),
    K.ANNUAL_REPORT: (151, 152),  # 31 Dec -> 31 May, one more day in a leap year
    K.ANNUAL_AUDIT: (151, 152),
}

DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def projects_st(draw: st.DrawFn) -> list[ProjectFacts]:
    out: list[ProjectFacts] = []
    for i in range(draw(st.integers(0, 4))):
        start = draw(DAYS)
        end = start + timedelta(days=draw(st.integers(0, 700)))
        # Closed before the start, early, on time, after the end, or not yet.
        offset = draw(st.none() | st.integers(-30, 760))
        closed = None if offset is None else start + timedelta(days=offset)
        out.append(project(start, end, key=f"p{i}", emergency=draw(st.booleans()), closed_on=closed))
    return out


@st.composite
def transactions_st(draw: st.DrawFn) -> list[TransactionFacts]:
    return [
        TransactionFacts(
            key=f"t{i}", kind=draw(st.sampled_from(["related_party", "major"])), occurred_on=draw(DAYS)
        )
        for i in range(draw(st.integers(0, 4)))
    ]


@settings(max_examples=150, deadline=None)
@given(projects_st(), transactions_st(), DAYS)
def test_calendar_properties(
    projects: list[ProjectFacts], transactions: list[TransactionFacts], today: date
) -> None:
    items = dues(projects=projects, transactions=transactions, today=today, first_year=2023)

    # Within the rule's allowance, periods well formed, no duplicates.
    for d in items:
        low, high = ALLOWANCE[d.kind]
        assert d.period_start <= d.period_end
        assert low <= (d.due_on - d.period_end).days <= high, d
    assert (
        max(Counter((d.subject, d.kind, d.period_start, d.period_end) for d in items).values(), default=1)
        == 1
    )

    # Nothing published: overdue exactly when the due day has passed.
    for d in items:
        assert d.status != S.DONE
        assert d.satisfied_by is None
        assert (d.status == S.OVERDUE) == (today > d.due_on)
        assert (d.status == S.DUE_SOON) == (today <= d.due_on and (d.due_on - today).days <= 7)

    # At most one upcoming (not yet ended) period per subject and kind.
    upcoming = Counter((d.subject, d.kind) for d in items if d.period_end >= today)
    assert max(upcoming.values(), default=1) == 1

    # Recurring periods tile the project from its start with no gap or overlap.
    series: dict[tuple[str, DisclosureKind], list[Due]] = defaultdict(list)
    for d in items:
        if d.kind in (K.PROGRESS_QUARTERLY, K.EMERGENCY_RECEIPTS):
            series[(d.subject, d.kind)].append(d)
    starts = {p.key: p.start for p in projects}
    for (subject, _kind), run in series.items():
        run.sort(key=lambda d: d.period_start)
        assert run[0].period_start == starts[subject]
        for before, after in pairwise(run):
            assert after.period_start == before.period_end + timedelta(days=1)

    # Every project has its final account; long projects alone have quarters.
    for p in projects:
        assert sum(1 for d in items if d.subject == p.key and d.kind == K.FINAL_ACCOUNT) == 1
        if not is_long_project(p):
            assert not any(d.subject == p.key and d.kind == K.PROGRESS_QUARTERLY for d in items)


@settings(max_examples=100, deadline=None)
@given(projects_st(), transactions_st(), DAYS, st.integers(0, 400))
def test_publishing_everything_leaves_nothing_overdue(
    projects: list[ProjectFacts], transactions: list[TransactionFacts], today: date, ago: int
) -> None:
    published_on = today - timedelta(days=ago)
    far = date(2100, 1, 1)
    published = [
        Published(p.key, kind, covers_until=far, published_on=published_on)
        for p in projects
        for kind in (K.PROGRESS_QUARTERLY, K.FINAL_ACCOUNT, K.EMERGENCY_RECEIPTS)
    ] + [
        Published(
            t.key, K.RELATED_PARTY if t.kind == "related_party" else K.MAJOR_TRANSACTION, far, published_on
        )
        for t in transactions
    ]
    reports = {
        year: AnnualFiling(report_published_on=published_on, audit_published_on=published_on)
        for year in range(2023, today.year + 1)
    }
    items = dues(
        projects=projects,
        transactions=transactions,
        published=published,
        year_reports=reports,
        today=today,
        first_year=2023,
    )
    assert items
    for d in items:
        assert d.status == S.DONE, d
        assert d.satisfied_by is not None
        assert d.late == (published_on > d.due_on)

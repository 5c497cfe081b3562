"""The calendar over real rows: every rule kind found overdue, done once published, notices sent once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core import inbox
from rendao.core.models import OutboxMessage, Role
from rendao.disclosure import due as due_module
from rendao.disclosure.due import DueItem, dues_for_branch, overdue_notify
from rendao.disclosure.models import DueNotice
from rendao.disclosure.services import disclosure_publish
from rendao.disclosure.tests.helpers import draft
from rendao.disclosure.tests.test_due_builders import MAJOR_FEN, TODAY, Scene, project, published, scene

pytestmark = pytest.mark.django_db

D = date


@pytest.fixture
def world(personas: Personas, settings: Any) -> Scene:
    settings.DISCLOSURE_MAJOR_TRANSACTION_FEN = MAJOR_FEN
    settings.DISCLOSURE_NOTIFY_DUE_SOON = False
    return scene(personas)


def rows(items: list[DueItem]) -> set[tuple[str, str, date, date, date, str]]:
    return {
        (str(i.kind), i.title, i.due.period_start, i.due.period_end, i.due.due_on, str(i.status))
        for i in items
    }


def find(items: list[DueItem], kind: str, title: str, end: date) -> DueItem:
    (item,) = [i for i in items if i.kind == kind and i.title == title and i.due.period_end == end]
    return item


def test_every_rule_kind_is_found_due_or_overdue_from_database_rows(personas: Personas, world: Scene) -> None:
    items = dues_for_branch(personas.tree.siming, TODAY)
    long, short, emergency = "爱心小书包 2025", "春季助学", "台风应急"
    related = world.related.disbursement.number
    major_late, major_recent = world.major_late.disbursement.number, world.major_recent.disbursement.number
    siming = personas.tree.siming.name
    assert rows(items) == {
        # Art 79: a year-long project discloses every 3 months; the running quarter is next.
        ("progress_quarterly", long, D(2025, 1, 1), D(2025, 3, 31), D(2025, 4, 1), "overdue"),
        ("progress_quarterly", long, D(2025, 4, 1), D(2025, 6, 30), D(2025, 7, 1), "overdue"),
        ("progress_quarterly", long, D(2025, 7, 1), D(2025, 9, 30), D(2025, 10, 1), "due"),
        ("final_account", long, D(2025, 1, 1), D(2025, 12, 31), D(2026, 3, 31), "due"),
        # A two-month project owes no quarterly report, but its account within 3 months of the end.
        ("final_account", short, D(2025, 3, 1), D(2025, 4, 30), D(2025, 7, 30), "overdue"),
        # Art 72: receipts every 5 days during the emergency (the street's project).
        ("emergency_receipts", emergency, D(2025, 8, 1), D(2025, 8, 5), D(2025, 8, 6), "overdue"),
        ("emergency_receipts", emergency, D(2025, 8, 6), D(2025, 8, 10), D(2025, 8, 11), "overdue"),
        ("emergency_receipts", emergency, D(2025, 8, 11), D(2025, 8, 15), D(2025, 8, 16), "due_soon"),
        ("final_account", emergency, D(2025, 8, 1), D(2025, 8, 31), D(2025, 11, 30), "due"),
        # Order 81: related-party and major transactions within 30 days of the payment.
        ("related_party", related, D(2025, 7, 1), D(2025, 7, 1), D(2025, 7, 31), "overdue"),
        ("major_transaction", major_late, D(2025, 7, 10), D(2025, 7, 10), D(2025, 8, 9), "overdue"),
        ("major_transaction", major_recent, D(2025, 8, 10), D(2025, 8, 10), D(2025, 9, 9), "due"),
        # The district's annual report and audit: 2024's report was published, its audit not.
        ("annual_report", siming, D(2024, 1, 1), D(2024, 12, 31), D(2025, 5, 31), "done"),
        ("annual_audit", siming, D(2024, 1, 1), D(2024, 12, 31), D(2025, 5, 31), "overdue"),
        ("annual_report", siming, D(2025, 1, 1), D(2025, 12, 31), D(2026, 5, 31), "due"),
        ("annual_audit", siming, D(2025, 1, 1), D(2025, 12, 31), D(2026, 5, 31), "due"),
    }
    # The street owes no annual report of its own; its project's items name it.
    street_items = [i for i in items if i.branch == personas.tree.street]
    assert {i.title for i in street_items} == {emergency}
    assert all(i.project_id == world.emergency.pk for i in street_items)


def test_the_major_transaction_threshold_is_a_setting(
    personas: Personas, world: Scene, settings: Any
) -> None:
    settings.DISCLOSURE_MAJOR_TRANSACTION_FEN = MAJOR_FEN + 1
    kinds = {(str(i.kind), i.title) for i in dues_for_branch(personas.tree.siming, TODAY)}
    assert ("major_transaction", world.major_recent.disbursement.number) in kinds
    assert ("major_transaction", world.major_late.disbursement.number) not in kinds


def test_publishing_the_matching_disclosure_makes_each_item_done(personas: Personas, world: Scene) -> None:
    tree, by = personas.tree, world.siming_finance
    pub = published
    pub(
        by,
        tree.siming,
        kind="progress_quarterly",
        project=world.long,
        start=D(2025, 1, 1),
        end=D(2025, 3, 31),
        on=D(2025, 3, 28),
    )
    # One cumulative report after the second quarter's deadline covers it, late.
    pub(
        by,
        tree.siming,
        kind="progress_quarterly",
        project=world.long,
        start=D(2025, 1, 1),
        end=D(2025, 6, 30),
        on=D(2025, 8, 1),
    )
    pub(
        by,
        tree.siming,
        kind="final_account",
        project=world.short,
        start=D(2025, 3, 1),
        end=D(2025, 4, 30),
        on=D(2025, 8, 1),
    )
    pub(
        by,
        tree.street,
        kind="emergency_receipts",
        project=world.emergency,
        start=D(2025, 8, 1),
        end=D(2025, 8, 10),
        on=D(2025, 8, 6),
    )
    # A month's related-party payments disclosed by the district, without naming a project.
    pub(by, tree.siming, kind="related_party", start=D(2025, 7, 1), end=D(2025, 7, 31), on=D(2025, 7, 20))
    # The city society may disclose for a project of the district.
    pub(
        personas.finance,
        tree.city,
        kind="major_transaction",
        project=world.long,
        start=D(2025, 7, 1),
        end=D(2025, 7, 31),
        on=D(2025, 8, 1),
    )
    pub(by, tree.siming, kind="annual_audit", start=D(2024, 1, 1), end=D(2024, 12, 31), on=D(2025, 8, 14))

    items = dues_for_branch(tree.siming, TODAY)
    assert not [i for i in items if i.status == "overdue"]
    done = {(str(i.kind), i.due.period_end): i.due.late for i in items if i.status == "done"}
    assert done == {
        ("progress_quarterly", D(2025, 3, 31)): False,
        ("progress_quarterly", D(2025, 6, 30)): True,
        ("final_account", D(2025, 4, 30)): True,
        ("emergency_receipts", D(2025, 8, 5)): False,
        ("emergency_receipts", D(2025, 8, 10)): False,
        ("related_party", D(2025, 7, 1)): False,
        ("major_transaction", D(2025, 7, 10)): False,
        ("annual_report", D(2024, 12, 31)): False,
        ("annual_audit", D(2024, 12, 31)): True,
    }


def test_a_correction_keeps_the_date_of_the_first_publication(personas: Personas, world: Scene) -> None:
    tree, by = personas.tree, world.siming_finance
    first = published(
        by,
        tree.siming,
        kind="progress_quarterly",
        project=world.long,
        start=D(2025, 1, 1),
        end=D(2025, 3, 31),
        on=D(2025, 3, 28),
    )
    published(
        by,
        tree.siming,
        kind="progress_quarterly",
        project=world.long,
        start=D(2025, 1, 1),
        end=D(2025, 3, 31),
        on=D(2025, 8, 10),
        corrects=first,
    )
    item = find(dues_for_branch(tree.siming, TODAY), "progress_quarterly", "爱心小书包 2025", D(2025, 3, 31))
    assert item.status == "done"
    assert not item.due.late
    assert item.due.satisfied_by is not None
    assert item.due.satisfied_by.published_on == D(2025, 3, 28)


def test_disclosures_of_another_subject_kind_or_period_do_not_count(personas: Personas, world: Scene) -> None:
    tree, by = personas.tree, world.siming_finance
    # Another project's report, a final account for a quarter, a month without the payment,
    # another project's transactions, and a half-year "annual" report: none satisfies anything due.
    published(
        by,
        tree.siming,
        kind="progress_quarterly",
        project=world.short,
        start=D(2025, 1, 1),
        end=D(2025, 6, 30),
        on=D(2025, 7, 1),
    )
    published(
        by,
        tree.siming,
        kind="final_account",
        project=world.long,
        start=D(2025, 1, 1),
        end=D(2025, 6, 30),
        on=D(2025, 7, 1),
    )
    published(
        by, tree.siming, kind="related_party", start=D(2025, 6, 1), end=D(2025, 6, 30), on=D(2025, 7, 1)
    )
    published(
        by,
        tree.siming,
        kind="major_transaction",
        project=world.short,
        start=D(2025, 7, 1),
        end=D(2025, 7, 31),
        on=D(2025, 8, 1),
    )
    published(by, tree.siming, kind="annual_audit", start=D(2024, 1, 1), end=D(2024, 6, 30), on=D(2025, 7, 1))
    # Published by 湖里, which is not above the district's payments.
    published(
        personas.finance,
        tree.huli,
        kind="related_party",
        start=D(2025, 7, 1),
        end=D(2025, 7, 31),
        on=D(2025, 7, 2),
    )
    items = dues_for_branch(tree.siming, TODAY)
    overdue = {(str(i.kind), i.due.period_end) for i in items if i.status == "overdue"}
    assert overdue == {
        ("progress_quarterly", D(2025, 3, 31)),
        ("progress_quarterly", D(2025, 6, 30)),
        ("final_account", D(2025, 4, 30)),
        ("emergency_receipts", D(2025, 8, 5)),
        ("emergency_receipts", D(2025, 8, 10)),
        ("related_party", D(2025, 7, 1)),
        ("major_transaction", D(2025, 7, 10)),
        ("annual_audit", D(2024, 12, 31)),
    }


def test_a_disclosure_published_through_the_service_marks_the_item_done(personas: Personas) -> None:
    tree = personas.tree
    today = timezone.localdate()
    start = today - timedelta(days=120)
    p = project(tree.siming, personas.finance, title="长期项目", start=start, end=start + timedelta(days=300))
    before = dues_for_branch(tree.siming, today)
    first = next(i for i in before if i.kind == "progress_quarterly" and i.project_id == p.pk)
    assert first.status == "overdue"
    d = draft(
        personas.finance,
        tree.siming,
        project=p,
        kind="progress_quarterly",
        period_start=first.due.period_start,
        period_end=first.due.period_end,
    )
    assert (
        find(
            dues_for_branch(tree.siming, today), "progress_quarterly", "长期项目", first.due.period_end
        ).status
        == "overdue"
    )
    disclosure_publish(actor=personas.finance, disclosure=d)
    item = find(dues_for_branch(tree.siming, today), "progress_quarterly", "长期项目", first.due.period_end)
    assert item.status == "done"
    assert item.due.late


def test_drafts_and_unopened_projects_owe_nothing(personas: Personas, world: Scene) -> None:
    from rendao.funds.models import FundraisingProject

    FundraisingProject.objects.filter(pk=world.short.pk).update(opened_on=None)
    titles = {i.title for i in dues_for_branch(personas.tree.siming, TODAY)}
    assert "春季助学" not in titles
    assert "爱心小书包 2025" in titles


# --- notices ---------------------------------------------------------------------------


def messages_by_user() -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in OutboxMessage.objects.filter(kind="disclosure.overdue").select_related("user"):
        assert m.user is not None
        counts[m.user.username] = counts.get(m.user.username, 0) + 1
    return counts


def test_overdue_items_notify_the_responsible_branch_and_its_parent_once(
    personas: Personas, world: Scene
) -> None:
    sent = overdue_notify(TODAY)
    # 8 overdue items in 思明: 6 of the district (its finance officer and the city's are
    # told), 2 of the street (no finance staff there: the district's officer is told, once).
    # Elsewhere the city's and 湖里's 2024 annual report and audit (湖里 has no finance
    # staff: the city's officer is told, once): 4 more for the city's officer.
    assert messages_by_user() == {"siming_finance": 8, "finance": 10}
    assert sent == 18
    assert DueNotice.objects.count() == 16 + 2 + 4
    assert (
        DueNotice.objects.filter(responsible=personas.tree.street, branch=personas.tree.siming).count() == 2
    )
    message = OutboxMessage.objects.filter(kind="disclosure.overdue", user=personas.finance).first()
    assert message is not None
    assert message.branch == personas.tree.city
    assert "/staff/disclosures/calendar/" in message.body
    # Run again, and again the next day: nothing new to say.
    assert overdue_notify(TODAY) == 0
    assert overdue_notify(TODAY + timedelta(days=1)) == 0
    assert messages_by_user() == {"siming_finance": 8, "finance": 10}


def test_a_notice_already_recorded_elsewhere_is_not_sent_again(personas: Personas, world: Scene) -> None:
    # What a second run going on at the same time leaves behind: the notice row.
    item = find(dues_for_branch(personas.tree.siming, TODAY), "final_account", "春季助学", D(2025, 4, 30))
    DueNotice.objects.create(
        subject=item.due.subject,
        kind=item.kind,
        period_start=item.due.period_start,
        period_end=item.due.period_end,
        due_on=item.due.due_on,
        stage="overdue",
        branch=personas.tree.city,
        responsible=personas.tree.siming,
    )
    overdue_notify(TODAY)
    assert messages_by_user() == {"siming_finance": 8, "finance": 9}


def test_a_published_item_is_not_notified(personas: Personas, world: Scene) -> None:
    published(
        world.siming_finance,
        personas.tree.siming,
        kind="annual_audit",
        start=D(2024, 1, 1),
        end=D(2024, 12, 31),
        on=D(2025, 8, 14),
    )
    overdue_notify(TODAY)
    assert messages_by_user() == {"siming_finance": 7, "finance": 9}
    assert not DueNotice.objects.filter(kind="annual_audit", responsible=personas.tree.siming).exists()


def test_items_due_soon_are_notified_only_when_configured(
    personas: Personas, world: Scene, settings: Any
) -> None:
    overdue_notify(TODAY)
    assert not OutboxMessage.objects.filter(kind="disclosure.due_soon").exists()
    settings.DISCLOSURE_NOTIFY_DUE_SOON = True
    overdue_notify(TODAY)
    overdue_notify(TODAY)
    soon = OutboxMessage.objects.filter(kind="disclosure.due_soon")
    # The third emergency window (due 16 Aug): the street has no finance staff,
    # so the district's officer is told.
    assert [m.user for m in soon] == [world.siming_finance]


def test_inactive_finance_staff_are_not_notified(personas: Personas, world: Scene) -> None:
    world.siming_finance.is_active = False
    world.siming_finance.save()
    overdue_notify(TODAY)
    # The district has nobody left: the city's officer hears of the district's and the street's items.
    assert messages_by_user() == {"finance": 8 + 4}


# --- the workbench -------------------------------------------------------------------------


@pytest.fixture
def on_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(due_module, "_today", lambda: TODAY)


def test_the_workbench_shows_overdue_and_due_soon_counts_to_finance_staff(
    personas: Personas, world: Scene, on_today: None
) -> None:
    items = {str(i.title): i for i in inbox.inbox_items(world.siming_finance, personas.tree.siming)}
    assert items["Disclosures overdue"].count == 8
    assert items["Disclosures due soon"].count == 1
    assert items["Disclosures overdue"].url == (
        f"{reverse('disclosure:calendar')}?branch={personas.tree.siming.pk}&status=overdue"
    )
    due = items["Disclosures overdue"].due
    assert due is not None
    # The oldest overdue item's due day: the first quarter's report.
    assert timezone.localtime(due).date() == D(2025, 4, 1)
    # The street's subtree: only its emergency project.
    street = {str(i.title): i.count for i in inbox.inbox_items(world.siming_finance, personas.tree.street)}
    assert street["Disclosures overdue"] == 2


def test_the_workbench_items_are_for_finance_staff_in_scope_only(
    personas: Personas, world: Scene, on_today: None
) -> None:
    titles = {"Disclosures overdue", "Disclosures due soon"}
    for user, branch in (
        (personas.auditor, personas.tree.siming),  # reads finance, manages none
        (personas.siming_staff, personas.tree.siming),
        (make_staff("huli_finance", personas.tree.huli, Role.FINANCE), personas.tree.siming),
    ):
        assert not titles & {str(i.title) for i in inbox.inbox_items(user, branch)}


def test_the_workbench_page_lists_the_items(personas: Personas, world: Scene, on_today: None) -> None:
    client: Client = signed_in_client(world.siming_finance)
    page = client.get(reverse("core:workbench"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Disclosures overdue" in page
    assert "Disclosures due soon" in page

"""The demo's disclosures (issue 7): published, corrected, drafted and overdue, as the calendar sees them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import timezone

from rendao.core.demo.loader import load_demo
from rendao.core.models import Branch
from rendao.disclosure.calendar import DisclosureKind, DueStatus
from rendao.disclosure.due import dues_for_branch
from rendao.disclosure.figures import Period, as_disclosure_figures, project_figures
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.services import ledger_payload
from rendao.funds.models import FundraisingProject
from rendao.funds.payments.sandbox.adapter import gateway_reset
from rendao.ledger.audit_registry import ledger_audit
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db

# The fund-use demo (and so this one) runs only when the demo has donations.
COUNT = 40


@pytest.fixture
def demo() -> Iterator[None]:
    gateway_reset()
    load_demo(donations=COUNT)
    yield
    gateway_reset()


def _project(title: str) -> FundraisingProject:
    return FundraisingProject.objects.get(title=title)


def test_published_corrected_and_drafted_disclosures_are_logged_with_their_figures(demo: None) -> None:
    published = Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)
    kinds = set(published.values_list("kind", flat=True))
    assert {
        DisclosureKind.PROGRESS_QUARTERLY,
        DisclosureKind.EMERGENCY_RECEIPTS,
        DisclosureKind.FINAL_ACCOUNT,
    } <= kinds
    # Every published version has its log leaf, whose payload is the row's.
    for disclosure in published.select_related("branch", "corrects"):
        assert disclosure.ledger_index is not None
        entry = Entry.objects.get(index=disclosure.ledger_index)
        assert entry.kind == EntryKind.DISCLOSURE_PUBLISHED
        logged = json.loads(bytes(entry.data))
        assert logged["content_sha256"] == ledger_payload(disclosure)["content_sha256"]
    report = ledger_audit()
    assert report.ok, report.mismatches
    # One correction: v2 of a published v1, both published, with its note.
    (v2,) = published.filter(corrects__isnull=False)
    assert v2.version == 2
    assert v2.correction_note
    assert v2.corrects is not None
    assert v2.corrects.status == DisclosureStatus.PUBLISHED
    assert v2.series == v2.corrects.series
    # One draft, not published, not logged.
    (draft,) = Disclosure.objects.filter(status=DisclosureStatus.DRAFT)
    assert draft.ledger_index is None
    assert draft.project == _project("红十字爱心小书包")
    # The figures are the project's figures for the period, as the pages compute them.
    final = published.get(kind=DisclosureKind.FINAL_ACCOUNT)
    assert final.project is not None
    period = Period(final.period_start, final.period_end)
    assert final.figures == as_disclosure_figures(project_figures(final.project, period))
    assert final.figures["received"] > 0


def test_the_calendar_shows_done_late_and_overdue_items(demo: None) -> None:
    today = timezone.localdate()
    city = Branch.objects.get(depth=1)
    items = dues_for_branch(city, today)
    by_project: dict[int | None, list[tuple[str, str, bool]]] = {}
    for item in items:
        by_project.setdefault(item.project_id, []).append((item.due.kind, item.due.status, item.due.late))
    hospital = _project("翔安区基层卫生院急救设备购置")
    # The hospital's first quarter is the one overdue item (the districts' annual reports are filed).
    overdue = [(i.project_id, i.due.kind) for i in items if i.due.status == DueStatus.OVERDUE]
    assert overdue == [(hospital.pk, DisclosureKind.PROGRESS_QUARTERLY)]
    assert Disclosure.objects.filter(kind=DisclosureKind.ANNUAL_REPORT, project=None).exists()
    general = by_project[_project("博爱厦门·人道救助募捐").pk]
    quarterly = [(s, late) for k, s, late in general if k == DisclosureKind.PROGRESS_QUARTERLY]
    assert quarterly[:3] == [(DueStatus.DONE, True), (DueStatus.DONE, False), (DueStatus.DONE, False)]
    typhoon = by_project[_project("台风“白鹭”灾后紧急救助").pk]
    assert {s for k, s, _late in typhoon if k == DisclosureKind.EMERGENCY_RECEIPTS} == {DueStatus.DONE}
    assert (DisclosureKind.FINAL_ACCOUNT, DueStatus.DONE, False) in typhoon
    # The bookbag's first quarter went through the approvals engine: published by its approver.
    bookbag = Disclosure.objects.get(project=_project("红十字爱心小书包"), status=DisclosureStatus.PUBLISHED)
    assert bookbag.published_by is not None
    assert bookbag.published_by.username == "city_admin"


def test_the_public_pages_show_the_demo_disclosures_and_the_correction(demo: None, client: Client) -> None:
    (v2,) = Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED, corrects__isnull=False)
    history = client.get(f"/open/d/{v2.series}/", HTTP_ACCEPT_LANGUAGE="en")
    assert history.status_code == 200
    text = history.content.decode()
    assert "Version 2" in text
    assert "Version 1" in text
    assert v2.correction_note in text
    for project in FundraisingProject.objects.all():
        page = client.get(f"/open/p/{project.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200, project.title
    typhoon = _project("台风“白鹭”灾后紧急救助")
    final = Disclosure.objects.get(project=typhoon, kind=DisclosureKind.FINAL_ACCOUNT)
    assert final.title in client.get(f"/open/p/{typhoon.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The draft is not public.
    draft = Disclosure.objects.get(status=DisclosureStatus.DRAFT)
    bookbag = client.get(f"/open/p/{draft.project_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert draft.title not in bookbag


def test_loading_again_adds_no_disclosure(demo: None) -> None:
    before = (Disclosure.objects.count(), Entry.objects.count())
    load_demo(donations=COUNT)
    assert (Disclosure.objects.count(), Entry.objects.count()) == before

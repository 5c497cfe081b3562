"""The adapter from rows to the engine's facts: what it reads, and in how many queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rendao.conftest import Personas
from rendao.disclosure.calendar import AnnualFiling, DisclosureKind, ProjectFacts, Published, TransactionFacts
from rendao.disclosure.due import dues_for_branch
from rendao.disclosure.facts import branch_key, disbursement_key, project_key, subtree_facts
from rendao.disclosure.tests.test_due_builders import MAJOR_FEN, TODAY, Scene, paid, project, published, scene
from rendao.funds.models import FundraisingProject

pytestmark = pytest.mark.django_db

D = date


@pytest.fixture
def world(personas: Personas, settings: Any) -> Scene:
    settings.DISCLOSURE_MAJOR_TRANSACTION_FEN = MAJOR_FEN
    return scene(personas)


def test_projects_transactions_and_annual_filings_become_facts(personas: Personas, world: Scene) -> None:
    tree = personas.tree
    facts = subtree_facts(tree.siming)
    assert set(facts.branches) == {tree.siming.pk, tree.street.pk, tree.community.pk}
    siming, street = facts.branches[tree.siming.pk], facts.branches[tree.street.pk]
    assert siming.owes_annual
    assert not street.owes_annual
    assert siming.projects == [
        ProjectFacts(project_key(world.long.pk), "爱心小书包 2025", D(2025, 1, 1), D(2025, 12, 31), False),
        ProjectFacts(project_key(world.short.pk), "春季助学", D(2025, 3, 1), D(2025, 4, 30), False),
    ]
    assert street.projects == [
        ProjectFacts(project_key(world.emergency.pk), "台风应急", D(2025, 8, 1), D(2025, 8, 31), True)
    ]
    assert siming.transactions == [
        TransactionFacts(disbursement_key(world.related.disbursement_id), "related_party", D(2025, 7, 1)),
        TransactionFacts(disbursement_key(world.major_late.disbursement_id), "major", D(2025, 7, 10)),
        TransactionFacts(disbursement_key(world.major_recent.disbursement_id), "major", D(2025, 8, 10)),
    ]
    assert siming.year_reports == {2024: AnnualFiling(report_published_on=D(2025, 5, 20))}
    assert facts.subjects[branch_key(tree.siming.pk)].title == tree.siming.name
    assert facts.subjects[disbursement_key(world.related.disbursement_id)].project_id == world.long.pk


def test_a_related_party_payment_over_the_threshold_owes_both_disclosures(
    personas: Personas, world: Scene
) -> None:
    payment = paid(
        world.long, world.siming_finance, paid_on=D(2025, 8, 1), amount_fen=MAJOR_FEN, related=True
    )
    key = disbursement_key(payment.disbursement_id)
    kinds = {
        t.kind
        for t in subtree_facts(personas.tree.siming).branches[personas.tree.siming.pk].transactions
        if t.key == key
    }
    assert kinds == {"related_party", "major"}


def test_the_project_workflows_final_report_date_counts_as_the_final_account(
    personas: Personas, world: Scene
) -> None:
    FundraisingProject.objects.filter(pk=world.short.pk).update(final_report_published_on=D(2025, 6, 1))
    facts = subtree_facts(personas.tree.siming).branches[personas.tree.siming.pk]
    assert (
        Published(project_key(world.short.pk), DisclosureKind.FINAL_ACCOUNT, D(2025, 4, 30), D(2025, 6, 1))
        in facts.published
    )


def test_a_project_opened_after_its_planned_end_does_not_break_the_calendar(
    personas: Personas, world: Scene
) -> None:
    FundraisingProject.objects.filter(pk=world.short.pk).update(opened_on=D(2025, 5, 10))
    facts = subtree_facts(personas.tree.siming).branches[personas.tree.siming.pk]
    (short,) = [p for p in facts.projects if p.key == project_key(world.short.pk)]
    assert (short.start, short.end) == (D(2025, 5, 10), D(2025, 5, 10))


def _queries(personas: Personas) -> int:
    with CaptureQueriesContext(connection) as ctx:
        dues_for_branch(personas.tree.city, TODAY)
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_subtree(personas: Personas, world: Scene) -> None:
    before = _queries(personas)
    tree, by = personas.tree, world.siming_finance
    for n, branch in enumerate((tree.huli, tree.school, tree.community, tree.street)):
        p = project(
            branch, by, title=f"项目{n}", start=D(2025, 1, 1), end=D(2025, 12, 31), emergency=n % 2 == 0
        )
        paid(p, by, paid_on=D(2025, 6, 1), amount_fen=MAJOR_FEN, related=True)
        published(
            by,
            branch,
            kind="progress_quarterly",
            project=p,
            start=D(2025, 1, 1),
            end=D(2025, 3, 31),
            on=D(2025, 4, 1),
        )
        published(
            by, branch, kind="annual_report", start=D(2024, 1, 1), end=D(2024, 12, 31), on=D(2025, 4, 1)
        )
    assert _queries(personas) == before
    assert before <= 4

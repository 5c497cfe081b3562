"""Drafting and publishing a disclosure: scope, validation, the ledger leaf, the frozen row."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.selectors import disclosures_public
from rendao.disclosure.services import content_hash, disclosure_publish, disclosure_update_draft
from rendao.disclosure.tests.helpers import END, START, disclosure_leaves, draft
from rendao.funds.tests.factories import open_project
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db


def test_draft_then_publish_appends_one_leaf_with_the_content_hash(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.finance)
    disclosure = draft(personas.finance, personas.tree.city, project=project)
    assert disclosure.status == DisclosureStatus.DRAFT
    assert disclosure.version == 1
    assert disclosure_leaves() == []
    assert list(disclosures_public()) == []

    published = disclosure_publish(actor=personas.finance, disclosure=disclosure)

    assert published.status == DisclosureStatus.PUBLISHED
    assert published.published_by == personas.finance
    assert published.published_at is not None
    assert published.published_at.tzinfo is not None
    leaves = disclosure_leaves()
    assert len(leaves) == 1
    leaf = leaves[0]
    assert leaf["index"] == published.ledger_index
    assert leaf["series"] == str(published.series)
    assert leaf["version"] == 1
    assert leaf["disclosure_kind"] == "progress_quarterly"
    assert leaf["project"] == project.pk
    city = personas.tree.city
    assert leaf["branch"] == (city.division_code or city.pk)
    assert leaf["period_start"] == START.isoformat()
    assert leaf["period_end"] == END.isoformat()
    assert leaf["corrects_version"] is None
    assert leaf["content_sha256"] == content_hash(
        title=published.title, body=published.body, figures=published.figures
    )
    assert AuditEvent.objects.filter(action="disclosure.publish").count() == 1
    assert list(disclosures_public(project=project)) == [published]
    assert list(disclosures_public(branch=personas.tree.city)) == [published]


def test_publishing_twice_is_refused_and_logs_nothing_more(personas: Personas) -> None:
    disclosure = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city)
    )
    with pytest.raises(ValidationError, match="already published"):
        disclosure_publish(actor=personas.finance, disclosure=disclosure)
    assert len(disclosure_leaves()) == 1


def test_published_row_is_refused_by_the_database(personas: Personas) -> None:
    disclosure = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city)
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).update(title="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).delete()
    disclosure.refresh_from_db()
    assert disclosure.title == "爱心小书包 第三季度进展"


def test_drafts_can_still_be_changed_and_deleted(personas: Personas) -> None:
    disclosure = draft(personas.finance, personas.tree.city)
    disclosure_update_draft(
        actor=personas.finance, disclosure=disclosure, title="新标题", figures={"spent": 5}
    )
    disclosure.refresh_from_db()
    assert disclosure.title == "新标题"
    assert disclosure.figures == {"spent": 5}
    Disclosure.objects.filter(pk=disclosure.pk).delete()
    assert not Disclosure.objects.exists()


def test_editing_a_published_disclosure_is_refused(personas: Personas) -> None:
    disclosure = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city)
    )
    with pytest.raises(ValidationError, match="publish a correction"):
        disclosure_update_draft(actor=personas.finance, disclosure=disclosure, title="x")


def test_out_of_scope_is_refused_with_nothing_changed(personas: Personas) -> None:
    siming = personas.tree.siming
    with pytest.raises(PermissionDenied):
        draft(personas.huli_staff, siming)
    with pytest.raises(PermissionDenied):
        draft(personas.siming_staff, siming)  # a branch administrator, not finance
    disclosure = draft(personas.finance, siming)
    with pytest.raises(PermissionDenied):
        disclosure_publish(actor=personas.huli_staff, disclosure=disclosure)
    with pytest.raises(PermissionDenied):
        disclosure_update_draft(actor=personas.huli_staff, disclosure=disclosure, title="x")
    disclosure.refresh_from_db()
    assert disclosure.status == DisclosureStatus.DRAFT
    assert Disclosure.objects.count() == 1
    assert not Entry.objects.filter(kind="disclosure_published").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_start": END, "period_end": START}, "period_end"),
        ({"title": "   "}, "title"),
        ({"body": ""}, "body"),
        ({"kind": "gossip"}, "kind"),
        ({"figures": {"received": 12.5}}, "figures"),
        ({"figures": {"received": True}}, "figures"),
        ({"figures": {"received": "100"}}, "figures"),
        ({"figures": [1, 2]}, "figures"),
    ],
)
def test_bad_input_is_refused_with_nothing_changed(
    personas: Personas, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        draft(personas.finance, personas.tree.city, **overrides)
    assert field in caught.value.message_dict
    assert not Disclosure.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="disclosure.").exists()


def test_bad_update_leaves_the_draft_as_it_was(personas: Personas) -> None:
    disclosure = draft(personas.finance, personas.tree.city)
    with pytest.raises(ValidationError, match="whole number of fen"):
        disclosure_update_draft(
            actor=personas.finance,
            disclosure=disclosure,
            title="新",
            figures={"x": 1.5},  # type: ignore[dict-item]
        )
    disclosure.refresh_from_db()
    assert disclosure.title == "爱心小书包 第三季度进展"


def test_project_outside_the_branch_subtree_is_refused(personas: Personas) -> None:
    project = open_project(personas.tree.huli, personas.finance)
    with pytest.raises(ValidationError) as caught:
        draft(personas.finance, personas.tree.siming, project=project)
    assert "project" in caught.value.message_dict
    assert not Disclosure.objects.exists()

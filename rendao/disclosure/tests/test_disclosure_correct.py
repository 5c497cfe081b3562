"""Correcting a published disclosure: a new version, the old one kept and still visible."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.conftest import Personas
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.selectors import disclosure_history, disclosures_public
from rendao.disclosure.services import content_hash, disclosure_correct, disclosure_publish
from rendao.disclosure.tests.helpers import disclosure_leaves, draft

pytestmark = pytest.mark.django_db


def _published(personas: Personas) -> Disclosure:
    return disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))


def test_correction_is_a_new_version_and_the_old_stays_published(personas: Personas) -> None:
    first = _published(personas)
    correction = disclosure_correct(
        actor=personas.finance,
        published=first,
        title=first.title,
        body="本季度发放书包 121 个。",
        figures={"received": 1_250_000, "spent": 990_000},
        correction_note="支出金额录入有误。",
    )
    assert correction.status == DisclosureStatus.DRAFT
    assert (correction.series, correction.version, correction.corrects) == (first.series, 2, first)
    assert list(disclosures_public()) == [first]  # a draft correction is not yet visible

    second = disclosure_publish(actor=personas.finance, disclosure=correction)

    first.refresh_from_db()
    assert first.status == DisclosureStatus.PUBLISHED
    assert list(disclosure_history(first.series)) == [first, second]
    assert list(disclosures_public()) == [second]
    leaves = disclosure_leaves()
    assert len(leaves) == 2
    assert leaves[1]["version"] == 2
    assert leaves[1]["corrects_version"] == 1
    assert leaves[1]["content_sha256"] == content_hash(
        title=second.title, body=second.body, figures=second.figures
    )
    assert leaves[0]["content_sha256"] != leaves[1]["content_sha256"]


def test_correction_needs_a_note(personas: Personas) -> None:
    first = _published(personas)
    with pytest.raises(ValidationError) as caught:
        disclosure_correct(
            actor=personas.finance, published=first, title="t", body="b", figures={}, correction_note=" "
        )
    assert "correction_note" in caught.value.message_dict
    assert Disclosure.objects.count() == 1


def test_only_the_current_published_version_can_be_corrected(personas: Personas) -> None:
    first = _published(personas)
    args: dict[str, Any] = {"title": "t", "body": "b", "figures": {}, "correction_note": "n"}
    with pytest.raises(ValidationError, match="edit the draft"):
        disclosure_correct(
            actor=personas.finance, published=draft(personas.finance, personas.tree.city), **args
        )
    pending = disclosure_correct(actor=personas.finance, published=first, **args)
    with pytest.raises(ValidationError, match="already being drafted"):
        disclosure_correct(actor=personas.finance, published=first, **args)
    disclosure_publish(actor=personas.finance, disclosure=pending)
    with pytest.raises(ValidationError, match="current version"):
        disclosure_correct(actor=personas.finance, published=first, **args)
    assert Disclosure.objects.filter(series=first.series).count() == 2


def test_correction_out_of_scope_is_refused(personas: Personas) -> None:
    first = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.siming)
    )
    with pytest.raises(PermissionDenied):
        disclosure_correct(
            actor=personas.huli_staff, published=first, title="t", body="b", figures={}, correction_note="n"
        )
    assert Disclosure.objects.count() == 1
    assert len(disclosure_leaves()) == 1

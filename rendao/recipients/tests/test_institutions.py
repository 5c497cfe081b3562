from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.recipients.models import Institution, NeedStatus
from rendao.recipients.services import institution_create, institution_deactivate, institution_update

from .conftest import make_institution, make_need, make_representative

pytestmark = pytest.mark.django_db


def test_it_creates_an_institution_with_the_mobile_sealed(personas: Personas) -> None:
    institution = make_institution(personas, credit_code="9111 0000 6000 3734 1l")
    assert institution.credit_code == "91110000600037341L"
    assert institution.contact_mobile == "+8613912345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_mobile FROM recipients_institution WHERE id = %s", [institution.pk])
        raw = cursor.fetchone()[0]
    assert "13912345678" not in str(raw)
    event = AuditEvent.objects.get(action="recipients.institution_created")
    assert "13912345678" not in str(event.after)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"credit_code": "91110000600037341X"}, "credit_code"),
        ({"credit_code": "12345"}, "credit_code"),
        ({"contact_mobile": "12345"}, "contact_mobile"),
        ({"related_party": True, "related_party_note": "  "}, "related_party_note"),
        ({"name": ""}, "name"),
        ({"kind": "bank"}, "kind"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    personas: Personas, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_institution(personas, **fields)
    assert field in caught.value.message_dict
    assert not Institution.objects.exists()


def test_a_duplicate_name_in_the_branch_is_refused(personas: Personas) -> None:
    make_institution(personas)
    with pytest.raises(ValidationError) as caught:
        make_institution(personas)
    assert "name" in caught.value.message_dict
    assert Institution.objects.count() == 1
    # The same name in another branch is another institution.
    make_institution(personas, at="huli")


def test_staff_of_another_district_cannot_create_there(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        institution_create(actor=personas.huli_staff, branch=personas.tree.siming, name="x", kind="school")
    with pytest.raises(PermissionDenied):
        institution_create(actor=personas.reviewer, branch=personas.tree.siming, name="x", kind="school")


def test_changing_the_related_party_flag_is_audited_and_needs_a_note(personas: Personas) -> None:
    institution = make_institution(personas)
    with pytest.raises(ValidationError):
        institution_update(
            actor=personas.siming_staff,
            institution=institution,
            name=institution.name,
            kind="school",
            related_party=True,
        )
    institution_update(
        actor=personas.siming_staff,
        institution=institution,
        name=institution.name,
        kind="school",
        credit_code=institution.credit_code,
        related_party=True,
        related_party_note="校长为本会理事",
    )
    institution.refresh_from_db()
    assert institution.related_party
    # The sealed number is kept when no new one is given.
    assert institution.contact_mobile == "+8613912345678"
    event = AuditEvent.objects.get(action="recipients.related_party_changed")
    assert event.before == {"related_party": False, "related_party_note": ""}
    assert event.after == {"related_party": True, "related_party_note": "校长为本会理事"}


def test_deactivating_withdraws_open_needs(personas: Personas) -> None:
    institution = make_institution(personas)
    rep = make_representative(personas, institution)
    need = make_need(rep, institution)
    institution_deactivate(actor=personas.siming_staff, institution=institution)
    need.refresh_from_db()
    assert need.status == NeedStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        institution_deactivate(actor=personas.siming_staff, institution=institution)

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.conftest import Personas
from rendao.core.models import User
from rendao.recipients.models import Institution, InstitutionMember
from rendao.recipients.services import member_add, member_remove

pytestmark = pytest.mark.django_db


def test_staff_add_an_existing_account_by_its_mobile(personas: Personas, school: Institution) -> None:
    member = member_add(actor=personas.siming_staff, institution=school, mobile="138 0013 8000")
    assert member.user == personas.public
    with pytest.raises(ValidationError) as caught:
        member_add(actor=personas.siming_staff, institution=school, mobile="13800138000")
    assert "already" in caught.value.messages[0]


def test_an_unknown_mobile_gets_a_clear_message(personas: Personas, school: Institution) -> None:
    with pytest.raises(ValidationError) as caught:
        member_add(actor=personas.siming_staff, institution=school, mobile="13611112222")
    assert "sign in once" in caught.value.messages[0]
    assert not InstitutionMember.objects.exists()


def test_a_bad_mobile_is_refused(personas: Personas, school: Institution) -> None:
    with pytest.raises(ValidationError) as caught:
        member_add(actor=personas.siming_staff, institution=school, mobile="12")
    assert "mobile" in caught.value.message_dict


def test_only_managing_staff_may_look_a_number_up(personas: Personas, school: Institution) -> None:
    # Refused before the number is looked at, so nobody else learns whether it has an account.
    for actor in (personas.huli_staff, personas.public, personas.reviewer, personas.auditor):
        with pytest.raises(PermissionDenied):
            member_add(actor=actor, institution=school, mobile="13800138000")


def test_staff_remove_a_representative(personas: Personas, school: Institution, representative: User) -> None:
    member = InstitutionMember.objects.get(user=representative)
    with pytest.raises(PermissionDenied):
        member_remove(actor=personas.huli_staff, member=member)
    member_remove(actor=personas.siming_staff, member=member)
    assert not InstitutionMember.objects.exists()

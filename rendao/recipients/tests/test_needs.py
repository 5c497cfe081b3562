from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import User
from rendao.recipients.models import Institution, Need, NeedStatus
from rendao.recipients.services import need_mark_met, need_withdraw

from .conftest import make_need

pytestmark = pytest.mark.django_db


def test_a_representative_publishes_and_withdraws_a_need(
    personas: Personas, school: Institution, representative: User
) -> None:
    need = make_need(representative, school)
    assert need.status == NeedStatus.OPEN
    assert need.published_by == representative
    need_withdraw(actor=representative, need=need)
    need.refresh_from_db()
    assert need.status == NeedStatus.WITHDRAWN
    assert need.closed_at is not None
    with pytest.raises(ValidationError):
        need_mark_met(actor=representative, need=need)


def test_managing_staff_may_publish_and_close(personas: Personas, school: Institution) -> None:
    need = make_need(personas.siming_staff, school)
    need_mark_met(actor=personas.city_staff, need=need)
    assert Need.objects.get().status == NeedStatus.MET


def test_others_are_refused(personas: Personas, school: Institution, representative: User) -> None:
    for actor in (personas.public, personas.huli_staff, personas.reviewer):
        with pytest.raises(PermissionDenied):
            make_need(actor, school)
    need = make_need(representative, school)
    with pytest.raises(PermissionDenied):
        need_withdraw(actor=personas.public, need=need)
    assert Need.objects.get().status == NeedStatus.OPEN


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"deadline": timezone.localdate() - timedelta(days=1)}, "deadline"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "5"}, "quantity"),
        ({"item_name": " "}, "item_name"),
        ({"unit": ""}, "unit"),
        ({"purpose": "x" * 301}, "purpose"),
    ],
)
def test_bad_needs_are_refused(
    personas: Personas, school: Institution, representative: User, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_need(representative, school, **fields)
    assert field in caught.value.message_dict
    assert not Need.objects.exists()

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import User
from rendao.recipients.models import Institution, InstitutionMember, Need
from rendao.recipients.services import institution_create, member_add, need_publish

# A real unified social credit code (check digit valid).
CREDIT_CODE = "91110000600037341L"


def make_institution(personas: Personas, *, at: str = "siming", **fields: Any) -> Institution:
    branch = getattr(personas.tree, at)
    actor = personas.siming_staff if at in ("siming", "street", "community") else personas.huli_staff
    values: dict[str, Any] = {
        "name": f"莲花小学 {at}",
        "kind": "school",
        "credit_code": CREDIT_CODE,
        "contact_name": "王老师",
        "contact_mobile": "13912345678",
    }
    values.update(fields)
    return institution_create(actor=actor, branch=branch, **values)


def make_representative(personas: Personas, institution: Institution, mobile: str = "+8613700137000") -> User:
    user = User.objects.create_user(f"rep{mobile[-4:]}", mobile=mobile)
    actor = personas.city_staff
    member_add(actor=actor, institution=institution, mobile=mobile)
    return user


def make_need(actor: User, institution: Institution, **fields: Any) -> Need:
    values: dict[str, Any] = {
        "item_name": "书包",
        "specification": "儿童款",
        "unit": "个",
        "quantity": 200,
        "deadline": timezone.localdate() + timedelta(days=30),
        "purpose": "新学期困难学生",
    }
    values.update(fields)
    return need_publish(actor=actor, institution=institution, **values)


@pytest.fixture
def school(personas: Personas) -> Institution:
    return make_institution(personas)


@pytest.fixture
def representative(personas: Personas, school: Institution) -> User:
    return make_representative(personas, school)


__all__ = ["CREDIT_CODE", "InstitutionMember", "make_institution", "make_need", "make_representative"]

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.conftest import Personas, Tree
from rendao.core.models import AuditEvent, Branch
from rendao.core.services.branches import (
    allowed_child_kinds,
    branch_create,
    branch_deactivate,
    branch_reactivate,
    branch_update,
    division_prefix,
)

pytestmark = pytest.mark.django_db

Kind = Branch.Kind


def test_the_hierarchy_is_a_table_of_allowed_child_kinds(tree: Tree) -> None:
    assert allowed_child_kinds(None) == [Kind.CITY]
    assert allowed_child_kinds(tree.city) == [Kind.DISTRICT, Kind.INSTITUTION]
    assert allowed_child_kinds(tree.siming) == [Kind.STREET, Kind.INSTITUTION]
    assert allowed_child_kinds(tree.street) == [Kind.COMMUNITY, Kind.INSTITUTION]
    assert allowed_child_kinds(tree.community) == [Kind.INSTITUTION]
    assert allowed_child_kinds(tree.school) == []


def test_division_prefix_drops_the_unused_levels() -> None:
    assert division_prefix("350200000000") == "3502"
    assert division_prefix("350203000000") == "350203"
    assert division_prefix("350203011000") == "350203011"
    assert division_prefix("350203011048") == "350203011048"


def test_a_district_admin_creates_a_street_with_an_audit_row(personas: Personas) -> None:
    t = personas.tree
    street = branch_create(
        actor=personas.siming_staff,
        parent=t.siming,
        kind=Kind.STREET,
        name="厦港街道红十字会",
        division_code="350203001000",
        latitude=Decimal("24.444"),
        longitude=Decimal("118.093"),
        population=72000,
    )
    assert Branch.objects.get_parent(street) == t.siming
    assert street.path.startswith(t.siming.path)
    event = AuditEvent.objects.get(action="branch.create", object_id=str(street.pk))
    assert event.actor == personas.siming_staff
    assert event.after is not None
    assert event.after["division"] == "350203001000"
    assert event.after["latitude"] == "24.444000"


def test_a_district_admin_cannot_create_under_another_district(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        branch_create(
            actor=personas.siming_staff, parent=personas.tree.huli, kind=Kind.STREET, name="江头街道红十字会"
        )
    assert not Branch.objects.filter(name="江头街道红十字会").exists()


def test_a_read_only_or_system_role_cannot_create_branches(personas: Personas) -> None:
    for actor in (personas.auditor, personas.leader, personas.sysadmin, personas.reviewer):
        with pytest.raises(PermissionDenied):
            branch_create(actor=actor, parent=personas.tree.siming, kind=Kind.STREET, name="x")


@pytest.mark.parametrize(
    ("parent_attr", "kind"),
    [
        ("city", Kind.STREET),
        ("city", Kind.COMMUNITY),
        ("siming", Kind.DISTRICT),
        ("street", Kind.STREET),
        ("community", Kind.COMMUNITY),
        ("school", Kind.INSTITUTION),
        ("siming", Kind.CITY),
    ],
)
def test_the_hierarchy_is_enforced(personas: Personas, parent_attr: str, kind: str) -> None:
    parent = getattr(personas.tree, parent_attr)
    before = Branch.objects.count()
    with pytest.raises(ValidationError) as exc:
        branch_create(
            actor=personas.city_staff,
            parent=parent,
            kind=kind,
            name="错层红十字会",
            institution_type="school" if kind == Kind.INSTITUTION else "",
        )
    assert "kind" in exc.value.message_dict
    assert Branch.objects.count() == before


def test_the_city_society_is_the_only_root(tree: Tree) -> None:
    with pytest.raises(ValidationError):
        branch_create(actor=None, parent=None, kind=Kind.CITY, name="另一个市红十字会")
    assert Branch.objects.filter(depth=1).count() == 1


def test_no_person_creates_a_root_only_the_installation_does(personas: Personas) -> None:
    for actor in (personas.city_staff, personas.sysadmin):
        with pytest.raises(PermissionDenied):
            branch_create(actor=actor, parent=None, kind=Kind.CITY, name="x")


def test_an_institution_hangs_off_any_territorial_level(personas: Personas) -> None:
    t = personas.tree
    for parent in (t.city, t.siming, t.street, t.community):
        branch = branch_create(
            actor=personas.city_staff,
            parent=parent,
            kind=Kind.INSTITUTION,
            institution_type=Branch.InstitutionType.COMPANY,
            name=f"{parent.name}·企业红十字会",
        )
        assert Branch.objects.get_parent(branch) == parent


def test_an_institution_needs_a_type_and_others_must_not_have_one(personas: Personas) -> None:
    t = personas.tree
    with pytest.raises(ValidationError) as exc:
        branch_create(actor=personas.city_staff, parent=t.city, kind=Kind.INSTITUTION, name="无类型")
    assert "institution_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        branch_create(
            actor=personas.city_staff,
            parent=t.siming,
            kind=Kind.STREET,
            institution_type=Branch.InstitutionType.SCHOOL,
            name="街道",
        )
    assert "institution_type" in exc.value.message_dict


@pytest.mark.parametrize(
    "code",
    [
        "35020301100",  # 11 digits
        "3502030110000",  # 13 digits
        "35020301100x",  # not digits
        "350206001000",  # under 湖里, not 思明
        "350203000000",  # the district's own code: not a street's level
        "350203011048",  # a community-level code for a street
    ],
)
def test_a_street_code_must_be_12_digits_at_its_level_under_its_district(
    personas: Personas, code: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        branch_create(
            actor=personas.siming_staff,
            parent=personas.tree.siming,
            kind=Kind.STREET,
            name="测试街道",
            division_code=code,
        )
    assert "division_code" in exc.value.message_dict
    assert not Branch.objects.filter(name="测试街道").exists()


def test_a_code_is_optional_and_not_checked_against_a_parent_without_one(personas: Personas) -> None:
    t = personas.tree  # the 莲秀 community in the personas tree has no code
    school = branch_create(
        actor=personas.siming_staff,
        parent=t.community,
        kind=Kind.INSTITUTION,
        institution_type=Branch.InstitutionType.SCHOOL,
        name="莲秀小学红十字会",
    )
    assert school.division_code == ""


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"latitude": Decimal("91"), "longitude": Decimal("118")}, "latitude"),
        ({"latitude": Decimal("24"), "longitude": Decimal("-181")}, "longitude"),
        ({"latitude": Decimal("24")}, "latitude"),
        ({"population": -1}, "population"),
    ],
)
def test_coordinates_and_population_are_checked(
    personas: Personas, fields: dict[str, object], bad_field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        branch_create(
            actor=personas.siming_staff,
            parent=personas.tree.siming,
            kind=Kind.STREET,
            name="坐标街道",
            **fields,  # type: ignore[arg-type]
        )
    assert bad_field in exc.value.message_dict


def test_an_update_is_audited_with_only_the_changed_fields(personas: Personas) -> None:
    t = personas.tree
    branch_update(actor=personas.siming_staff, branch=t.street, population=120000, contact_name="林")
    t.street.refresh_from_db()
    assert t.street.population == 120000
    event = AuditEvent.objects.get(action="branch.update")
    assert event.before == {"population": None, "contact_name": ""}
    assert event.after == {"population": 120000, "contact_name": "林"}


def test_an_update_that_changes_nothing_writes_nothing(personas: Personas) -> None:
    branch_update(actor=personas.siming_staff, branch=personas.tree.street, name=personas.tree.street.name)
    assert not AuditEvent.objects.filter(action="branch.update").exists()


def test_a_code_change_must_keep_the_children_under_it(personas: Personas) -> None:
    t = personas.tree
    branch_create(
        actor=personas.siming_staff,
        parent=t.street,
        kind=Kind.COMMUNITY,
        name="莲兴社区红十字会",
        division_code="350203009021",
    )
    with pytest.raises(ValidationError) as exc:
        branch_update(actor=personas.siming_staff, branch=t.street, division_code="350203010000")
    assert "division_code" in exc.value.message_dict
    t.street.refresh_from_db()
    assert t.street.division_code == "350203009000"


def test_update_refuses_fields_it_does_not_own(personas: Personas) -> None:
    with pytest.raises(TypeError):
        branch_update(actor=personas.city_staff, branch=personas.tree.street, kind=Kind.DISTRICT)
    with pytest.raises(TypeError):
        branch_update(actor=personas.city_staff, branch=personas.tree.street, path="0001")


def test_update_is_scoped(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        branch_update(actor=personas.huli_staff, branch=personas.tree.street, name="改名")
    personas.tree.street.refresh_from_db()
    assert personas.tree.street.name == "嘉莲街道红十字会"


def test_a_branch_with_active_children_cannot_be_deactivated(personas: Personas) -> None:
    t = personas.tree
    with pytest.raises(ValidationError):
        branch_deactivate(actor=personas.siming_staff, branch=t.street)
    t.street.refresh_from_db()
    assert t.street.is_active
    branch_deactivate(actor=personas.siming_staff, branch=t.community)
    branch_deactivate(actor=personas.siming_staff, branch=t.street)
    t.street.refresh_from_db()
    assert not t.street.is_active
    assert AuditEvent.objects.filter(action="branch.deactivate").count() == 2


def test_nothing_is_added_under_an_inactive_branch_and_reactivation_goes_top_down(
    personas: Personas,
) -> None:
    t = personas.tree
    branch_deactivate(actor=personas.siming_staff, branch=t.community)
    branch_deactivate(actor=personas.siming_staff, branch=t.street)
    with pytest.raises(ValidationError):
        branch_create(
            actor=personas.siming_staff,
            parent=t.street,
            kind=Kind.COMMUNITY,
            name="新社区",
        )
    with pytest.raises(ValidationError):
        branch_reactivate(actor=personas.siming_staff, branch=t.community)
    branch_reactivate(actor=personas.siming_staff, branch=t.street)
    branch_reactivate(actor=personas.siming_staff, branch=t.community)
    t.community.refresh_from_db()
    assert t.community.is_active


def test_deactivation_is_scoped(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        branch_deactivate(actor=personas.huli_staff, branch=personas.tree.community)
    with pytest.raises(PermissionDenied):
        branch_deactivate(actor=personas.auditor, branch=personas.tree.community)

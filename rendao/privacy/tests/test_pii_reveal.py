from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from rendao.conftest import Personas
from rendao.core.models import AuditEvent, Role, User
from rendao.core.permissions import Perm
from rendao.privacy.models import Identity
from rendao.privacy.reveal import pii_reveal

pytestmark = pytest.mark.django_db

ID_NUMBER = "35020319900101123X"


@pytest.fixture
def identity(personas: Personas) -> Identity:
    return Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)


def test_branch_administrators_and_reviewers_hold_the_reveal_permission() -> None:
    holders = {r.code for r in Role.objects.all() if Perm.PII_REVEAL in r.permissions}
    assert holders == {Role.BRANCH_ADMIN, Role.REVIEWER}


def test_a_holder_sees_the_value_and_the_view_is_audited_without_it(
    personas: Personas, identity: Identity
) -> None:
    value = pii_reveal(actor=personas.reviewer, obj=identity, field="id_number", branch=personas.tree.street)
    assert value == ID_NUMBER
    event = AuditEvent.objects.get(action="pii.revealed")
    assert (event.actor_id, event.object_type, event.object_id) == (
        personas.reviewer.pk,
        "privacy.identity",
        str(identity.pk),
    )
    assert event.after == {"field": "id_number"}
    assert event.branch_id == personas.tree.street.pk
    assert ID_NUMBER not in str(event.before) + str(event.after) + event.user_agent


def test_every_view_is_a_new_audit_row(personas: Personas, identity: Identity) -> None:
    for _ in range(3):
        pii_reveal(actor=personas.siming_staff, obj=identity, field="real_name", branch=personas.tree.siming)
    assert AuditEvent.objects.filter(action="pii.revealed").count() == 3


@pytest.mark.parametrize(
    "who", ["huli_staff", "auditor", "leader", "finance", "sysadmin", "outsider", "public"]
)
def test_anyone_else_is_refused_and_nothing_is_written(
    personas: Personas, identity: Identity, who: str
) -> None:
    actor: User = getattr(personas, who)
    with pytest.raises(PermissionDenied):
        pii_reveal(actor=actor, obj=identity, field="id_number", branch=personas.tree.siming)
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()


def test_a_holder_is_refused_outside_their_subtree(personas: Personas, identity: Identity) -> None:
    with pytest.raises(PermissionDenied):
        pii_reveal(actor=personas.reviewer, obj=identity, field="id_number", branch=personas.tree.huli)
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()


@pytest.mark.parametrize("field", ["verified_at", "id_number_index", "nope"])
def test_only_vault_fields_are_revealed_through_here(
    personas: Personas, identity: Identity, field: str
) -> None:
    with pytest.raises(ValueError, match="field"):
        pii_reveal(actor=personas.city_staff, obj=identity, field=field, branch=personas.tree.city)
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()


def test_a_users_mobile_number_is_revealed_the_same_way(personas: Personas) -> None:
    value = pii_reveal(
        actor=personas.city_staff, obj=personas.public, field="mobile", branch=personas.tree.city
    )
    assert value == "+8613800138000"
    assert AuditEvent.objects.get(action="pii.revealed").after == {"field": "mobile"}

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from rendao.conftest import Personas
from rendao.core.audit import audit_record, audit_verify
from rendao.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _record(personas: Personas, n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=personas.city_staff,
                action="test.thing",
                object_type="x",
                object_id=i,
                branch=personas.tree.city,
                after={"n": i, "mobile": "138"},
            )


def test_a_clean_chain_verifies(personas: Personas) -> None:
    _record(personas, 5)
    result = audit_verify()
    assert result.ok
    assert result.checked == 5


def test_personal_fields_are_redacted(personas: Personas) -> None:
    _record(personas, 1)
    assert AuditEvent.objects.get().after == {"n": 0, "mobile": "[redacted]"}


def test_the_database_refuses_updates_and_deletes(personas: Personas) -> None:
    _record(personas, 2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=1).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=2).delete()
    assert AuditEvent.objects.count() == 2


def _without_triggers(sql: str) -> None:
    # Simulates an attacker with direct database access who drops the trigger.
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
            cur.execute(sql)
            cur.execute("SET session_replication_role = DEFAULT")
        else:
            cur.execute("DROP TRIGGER core_auditevent_no_update")
            cur.execute("DROP TRIGGER core_auditevent_no_delete")
            cur.execute(sql)


def test_an_edited_row_is_detected(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("UPDATE core_auditevent SET action = 'forged' WHERE id = 2")
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_id == 2


def test_a_deleted_row_is_detected(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("DELETE FROM core_auditevent WHERE id = 2")
    assert audit_verify().first_bad_id == 2


def test_a_row_deleted_from_the_end_is_detected(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("DELETE FROM core_auditevent WHERE id = 3")
    assert not audit_verify().ok

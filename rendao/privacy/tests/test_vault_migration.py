"""Migration 0005 moves existing mobile numbers and outbox recipients into the vault."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rendao.privacy.crypto import is_sealed
from rendao.privacy.fields import index_for

# serialized_rollback: the flush after a transactional test would otherwise take the
# roles and audit head that migrations seed away from the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = ("core", "0004_outbox_retry_permission")
AFTER = ("core", "0005_mobile_into_vault")


def migrate(target: tuple[str, str]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    executor.loader.build_graph()
    return executor


def raw(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return list(cur.fetchall())


def test_existing_numbers_are_sealed_indexed_and_come_back_on_reversal() -> None:
    migrate(BEFORE)
    sent, waiting = uuid.uuid4().hex, uuid.uuid4().hex
    with connection.cursor() as cur:
        for name, mobile in (("a", "+8613800138000"), ("b", None)):
            cur.execute(
                "INSERT INTO core_user (password, username, display_name, mobile, email, is_staff, is_active,"
                " is_demo, is_superuser, date_joined) VALUES ('', %s, '', %s, '', FALSE, TRUE, FALSE, FALSE,"
                " CURRENT_TIMESTAMP)",
                [name, mobile],
            )
        for pk, status in ((sent, "sent"), (waiting, "pending")):
            cur.execute(
                "INSERT INTO core_outboxmessage (id, channel, recipient, kind, subject, body,"
                " forget_after_delivery, status, attempts, next_attempt_at, last_error, created_at)"
                " VALUES (%s, 'sms', '+8613912345678', 'n', '', 'b', FALSE, %s, 0, CURRENT_TIMESTAMP, '',"
                " CURRENT_TIMESTAMP)",
                [pk, status],
            )

    migrate(AFTER)

    rows: dict[str, Any] = dict(raw("SELECT username, mobile FROM core_user"))
    assert rows["b"] is None
    assert is_sealed(str(rows["a"]))
    assert "13800138000" not in str(rows["a"])
    assert raw("SELECT mobile_index FROM core_user WHERE username = 'a'") == [
        (index_for("mobile", "13800138000"),)
    ]
    outbox = {
        str(r[0]).replace("-", ""): r[1:]
        for r in raw("SELECT id, recipient, recipient_masked FROM core_outboxmessage")
    }
    assert outbox[sent] == ("", "139****5678")  # delivered: forgotten
    assert is_sealed(str(outbox[waiting][0]))
    assert outbox[waiting][1] == "139****5678"
    roles: dict[str, Any] = dict(
        raw("SELECT code, permissions FROM core_role WHERE code IN ('branch_admin', 'auditor')")
    )
    assert "pii.reveal" in str(roles["branch_admin"])
    assert "pii.reveal" not in str(roles["auditor"])

    migrate(BEFORE)

    assert dict(raw("SELECT username, mobile FROM core_user")) == {"a": "+8613800138000", "b": None}
    back = dict(
        (str(r[0]).replace("-", ""), r[1]) for r in raw("SELECT id, recipient FROM core_outboxmessage")
    )
    assert back == {sent: "139****5678", waiting: "+8613912345678"}
    assert "pii.reveal" not in str(raw("SELECT permissions FROM core_role"))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

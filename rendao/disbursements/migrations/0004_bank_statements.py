"""Refuse UPDATE and DELETE on bank statement lines, on SQLite and PostgreSQL.

A statement line is what the bank said left the account; payments are confirmed
by pointing at it and the reconciliation log entry counts it. Finance settles a
difference with a note on the difference, never by editing the bank's line.
PostgreSQL reuses rendao_refuse_change() from core.0002_audit_append_only.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "disbursements_statementline"

SQLITE = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} rows are append-only'); END;""",
    f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} rows are append-only'); END;""",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update;", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;"]
POSTGRES = [
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION rendao_refuse_change();"""
]
POSTGRES_REVERSE = [f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};"]


def forwards(apps: Any, schema_editor: Any) -> None:
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps: Any, schema_editor: Any) -> None:
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only"), ("disbursements", "0003_disbursement_flow")]

    operations = [migrations.RunPython(forwards, backwards)]

"""Refuse UPDATE and DELETE on stock moves, on SQLite and PostgreSQL.

A move is the record of one change of stock and of its transparency-log entry;
a correction is a new move, never an edit. Enforcing this in the database means
neither a buggy service nor a raw-SQL script can rewrite a lot's history.
PostgreSQL reuses rendao_refuse_change() from core.0002_audit_append_only.
"""

from django.db import migrations

TABLE = "goods_move"

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


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only"), ("goods", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

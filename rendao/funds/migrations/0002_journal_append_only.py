"""Refuse UPDATE and DELETE on journal entries and lines, on SQLite and PostgreSQL.

Entries are never edited: a correction is a reversing entry. Enforcing this at
the database means neither a buggy service nor a raw-SQL script can rewrite the
books; stored account balances are then checked against these rows by
`accounts_recompute`. PostgreSQL reuses rendao_refuse_change() from
core.0002_audit_append_only.
"""

from django.db import migrations

TABLES = ("funds_journalentry", "funds_journalline")

SQLITE = [
    sql
    for table in TABLES
    for sql in (
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;""",
    )
]
SQLITE_REVERSE = [
    sql
    for table in TABLES
    for sql in (f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;")
]
POSTGRES = [
    f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION rendao_refuse_change();"""
    for table in TABLES
]
POSTGRES_REVERSE = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = (
        POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only"), ("funds", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

"""The log's head row, and UPDATE/DELETE refused at the database on SQLite and PostgreSQL.

Entries, tree hashes, checkpoints and cosignatures are append-only: only someone
who drops these triggers can rewrite history, and a verifier recomputing the
tree from the entries then no longer reaches the signed checkpoint's root.
The head row is updated by every append, so it carries no trigger.
"""

from django.db import migrations

TABLES = ["ledger_entry", "ledger_nodehash", "ledger_checkpoint", "ledger_cosignature"]


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;""",
    ]


def _postgres(table: str) -> list[str]:
    # rendao_refuse_change() is created by core's 0002_audit_append_only.
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION rendao_refuse_change();"""
    ]


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        for sql in _postgres(table) if postgres else _sqlite(table):
            schema_editor.execute(sql, params=None)
    apps.get_model("ledger", "LedgerHead").objects.get_or_create(pk=1, defaults={"size": 0})


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        if postgres:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};", params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;", params=None)
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("core", "0002_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]

"""Refuse UPDATE and DELETE of published disclosures, on SQLite and PostgreSQL.

Drafts stay editable; once a row's status is "published" its text, figures and
ledger index are frozen, and a correction is a new version. Enforcing this at
the database means neither a buggy service nor a raw-SQL script can rewrite a
published disclosure.
"""

from django.db import migrations

TABLE = "disclosure_disclosure"

SQLITE = [
    f"""CREATE TRIGGER {TABLE}_published_no_update BEFORE UPDATE ON {TABLE}
        WHEN OLD.status = 'published'
        BEGIN SELECT RAISE(ABORT, 'published disclosures cannot be changed'); END;""",
    f"""CREATE TRIGGER {TABLE}_published_no_delete BEFORE DELETE ON {TABLE}
        WHEN OLD.status = 'published'
        BEGIN SELECT RAISE(ABORT, 'published disclosures cannot be deleted'); END;""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_published_no_update;",
    f"DROP TRIGGER IF EXISTS {TABLE}_published_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION rendao_disclosure_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.status = 'published' THEN
           RAISE EXCEPTION 'published disclosures cannot be changed (%)', TG_OP;
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END;
       $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER {TABLE}_published_frozen BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION rendao_disclosure_frozen();""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_published_frozen ON {TABLE};",
    "DROP FUNCTION IF EXISTS rendao_disclosure_frozen();",
]


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
    dependencies = [("disclosure", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

"""The default approval flow of disbursements, and append-only events and sign-offs.

The default "disbursement" flow: the administrator of the fund's branch, then
the city society's finance officer. Two steps, so every disbursement has two
distinct approvers (the engine lets one person decide one step only, and never
the requester); above settings.APPROVAL_TWO_PERSON_FEN the engine would insist
on two even if a branch's own flow had one step.

Events and sign-offs are the history of what was decided and what the payee
said: UPDATE and DELETE are refused at the database, on SQLite and PostgreSQL
(PostgreSQL reuses rendao_refuse_change() from core.0002_audit_append_only).
"""

from django.db import migrations

STEPS = [
    # (position, role code, level, hours)
    (1, "branch_admin", "same", 48),
    (2, "finance", "city", 72),
]

TABLES = ("disbursements_disbursementevent", "disbursements_signoff")

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


def seed_flow(apps, schema_editor):
    Flow = apps.get_model("approvals", "Flow")
    FlowStep = apps.get_model("approvals", "FlowStep")
    Role = apps.get_model("core", "Role")
    if Flow.objects.filter(process_type="disbursement", branch__isnull=True).exists():
        return
    flow = Flow.objects.create(process_type="disbursement", branch=None, name="资金拨付审批（默认）", is_active=True)
    for position, code, level, hours in STEPS:
        FlowStep.objects.create(
            flow=flow, position=position, role=Role.objects.get(code=code), level=level, hours=hours
        )


def unseed_flow(apps, schema_editor):
    # Left in place, as funds.0003 does: seed_flow skips an existing flow.
    return


def triggers(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def untriggers(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("disbursements", "0002_initial"),
        ("approvals", "0002_default_flows"),
        ("core", "0002_audit_append_only"),
        ("core", "0003_builtin_roles"),
    ]

    operations = [
        migrations.RunPython(seed_flow, unseed_flow),
        migrations.RunPython(triggers, untriggers),
    ]

"""Disclosures are approved before they are published (issue 7).

- status gains "in_approval" (draft → in_approval → published; a rejected or
  withdrawn one goes back to draft). Only a published row must carry its
  publication fields, so the check constraint now says "not published, or complete".
- The default "disclosure" approval flow: one step, the branch administrator of
  the disclosure's own branch (or above). The engine never lets the drafter
  decide it. System administrators override it per branch subtree.

On SQLite, changing a check constraint rebuilds the table, which drops its
triggers: the triggers of 0002 that freeze published rows are installed again.
"""

from importlib import import_module

from django.db import migrations, models

FROZEN = import_module("rendao.disclosure.migrations.0002_published_frozen")

STEPS = [
    # (position, role code, level, hours)
    (1, "branch_admin", "same", 72),
]


def seed_flow(apps, schema_editor):
    Flow = apps.get_model("approvals", "Flow")
    FlowStep = apps.get_model("approvals", "FlowStep")
    Role = apps.get_model("core", "Role")
    if Flow.objects.filter(process_type="disclosure", branch__isnull=True).exists():
        return
    flow = Flow.objects.create(
        process_type="disclosure", branch=None, name="信息公开审批（默认）", is_active=True
    )
    for position, code, level, hours in STEPS:
        FlowStep.objects.create(
            flow=flow, position=position, role=Role.objects.get(code=code), level=level, hours=hours
        )


def unseed_flow(apps, schema_editor):
    # Left in place, as disbursements.0003 does: seed_flow skips an existing flow.
    return


def refreeze(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in FROZEN.SQLITE_REVERSE + FROZEN.SQLITE:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0002_published_frozen"),
        ("approvals", "0002_default_flows"),
        ("core", "0003_builtin_roles"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="disclosure",
            name="disclosure_published_complete",
        ),
        migrations.AlterField(
            model_name="disclosure",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft"), ("in_approval", "In approval"), ("published", "Published")],
                default="draft",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="disclosure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "published"), _negated=True),
                    models.Q(
                        ("ledger_index__isnull", False),
                        ("published_at__isnull", False),
                        ("published_by__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="disclosure_published_complete",
            ),
        ),
        migrations.RunPython(refreeze, migrations.RunPython.noop),
        migrations.RunPython(seed_flow, unseed_flow),
    ]

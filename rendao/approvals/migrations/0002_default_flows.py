"""Seed the default flow of matters for approval (事项审批).

1. the branch administrator of the item's own branch (or above) — the head of the
   office that asks;
2. a reviewer of its district — an independent check outside the office;
3. from 10,000 yuan (1,000,000 fen), a finance officer of the city society.

Items of 50,000 yuan or more need two distinct approvers anyway (the engine's
two-person rule); this flow already has at least two steps. System
administrators change or override it per branch subtree in the configuration.
Other process types seed their own default flows in their apps' migrations.
"""

from django.db import migrations

STEPS = [
    # (position, role code, level, min amount in fen or None, hours)
    (1, "branch_admin", "same", None, 48),
    (2, "reviewer", "district", None, 48),
    (3, "finance", "city", 1_000_000, 72),
]


def forwards(apps, schema_editor):
    Flow = apps.get_model("approvals", "Flow")
    FlowStep = apps.get_model("approvals", "FlowStep")
    Role = apps.get_model("core", "Role")
    if Flow.objects.filter(process_type="matter", branch__isnull=True).exists():
        return
    flow = Flow.objects.create(process_type="matter", branch=None, name="事项审批（默认）", is_active=True)
    for position, code, level, min_amount, hours in STEPS:
        FlowStep.objects.create(
            flow=flow,
            position=position,
            role=Role.objects.get(code=code),
            level=level,
            min_amount_fen=min_amount,
            hours=hours,
        )


def backwards(apps, schema_editor):
    apps.get_model("approvals", "Flow").objects.filter(process_type="matter", branch__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("core", "0004_outbox_retry_permission"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]

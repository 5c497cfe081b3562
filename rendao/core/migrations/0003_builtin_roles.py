"""Seed the roles every installation starts with, and the audit chain's head."""

from django.db import migrations

GENESIS = "0" * 64

ROLES = [
    ("system_admin", "系统管理员", False, ["system.configure", "system.accounts"]),
    ("branch_admin", "分会管理员", False, [
        "branch.view", "branch.manage", "membership.view", "membership.manage",
        "outbox.view", "dashboard.view", "audit.view", "token.use",
    ]),
    ("finance", "财务人员", False, [
        "branch.view", "finance.view", "finance.manage", "dashboard.view", "token.use",
    ]),
    ("reviewer", "审核人员", False, ["branch.view", "review.decide", "dashboard.view"]),
    ("training_officer", "培训专员", False, ["branch.view", "training.manage"]),
    ("volunteer_manager", "志愿者管理员", False, ["branch.view", "volunteer.manage"]),
    ("auditor", "审计人员", True, [
        "branch.view", "membership.view", "audit.view", "outbox.view",
        "dashboard.view", "finance.view",
    ]),
    ("leader", "领导", True, ["branch.view", "dashboard.view", "finance.view"]),
]


def forwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for code, name, read_only, perms in ROLES:
        Role.objects.update_or_create(
            code=code,
            defaults={"name": name, "read_only": read_only, "permissions": perms, "is_builtin": True},
        )
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"last_id": 0, "last_hash": GENESIS})


def backwards(apps, schema_editor):
    apps.get_model("core", "Role").objects.filter(is_builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]

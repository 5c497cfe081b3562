"""Give branch administrators the new outbox.retry permission.

Retrying a message that was given up is a write, so it is a permission of its
own: the auditor, who reads the outbox, must not hold it.
"""

from django.db import migrations

PERM = "outbox.retry"


def forwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code="branch_admin"):
        if PERM not in role.permissions:
            role.permissions = [*role.permissions, PERM]
            role.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        if PERM in (role.permissions or []):
            role.permissions = [p for p in role.permissions if p != PERM]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_builtin_roles")]
    operations = [migrations.RunPython(forwards, backwards)]

"""Give the built-in roles the attachment permissions.

attachment.view (read attachments of the branch's subtree, by purpose):
every business role that handles files, and the auditor (read-only).
attachment.manage (upload and delete at the branch): the roles that do the
work, never the read-only ones.
"""

from django.db import migrations

GRANTS = {
    "attachment.view": [
        "branch_admin", "finance", "reviewer", "training_officer", "volunteer_manager", "auditor",
    ],
    "attachment.manage": ["branch_admin", "finance", "reviewer", "training_officer", "volunteer_manager"],
}


def forwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for perm, codes in GRANTS.items():
        for role in Role.objects.filter(code__in=codes):
            if perm not in role.permissions:
                role.permissions = [*role.permissions, perm]
                role.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        kept = [p for p in (role.permissions or []) if p not in GRANTS]
        if kept != (role.permissions or []):
            role.permissions = kept
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("uploads", "0001_initial"), ("core", "0003_builtin_roles")]
    operations = [migrations.RunPython(forwards, backwards)]

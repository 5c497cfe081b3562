"""Permissions for in-kind goods and recipient institutions (issue 6), and the warehouse keeper role.

Branch administrators run their branch's warehouses and institutions; finance
keeps the list of payees (institutions) and sees stock, since goods are
property on the books; auditors and leaders read stock. A warehouse keeper
(仓库管理员) receives, moves, issues and counts goods and nothing else.
"""

from django.db import migrations

GRANTS = {
    "branch_admin": ["goods.view", "goods.manage", "recipients.manage"],
    "finance": ["goods.view", "recipients.manage"],
    "auditor": ["goods.view"],
    "leader": ["goods.view"],
}
KEEPER = ("warehouse_keeper", "仓库管理员", False, ["branch.view", "goods.view", "goods.manage"])
NEW = {"goods.view", "goods.manage", "recipients.manage"}


def forwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for code, perms in GRANTS.items():
        for role in Role.objects.filter(code=code):
            role.permissions = [*role.permissions, *(p for p in perms if p not in role.permissions)]
            role.save(update_fields=["permissions"])
    code, name, read_only, perms = KEEPER
    Role.objects.update_or_create(
        code=code, defaults={"name": name, "read_only": read_only, "permissions": perms, "is_builtin": True}
    )


def backwards(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    Role.objects.filter(code=KEEPER[0]).delete()
    for role in Role.objects.all():
        if NEW & set(role.permissions or []):
            role.permissions = [p for p in role.permissions if p not in NEW]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("core", "0007_outbox_template_values")]
    operations = [migrations.RunPython(forwards, backwards)]

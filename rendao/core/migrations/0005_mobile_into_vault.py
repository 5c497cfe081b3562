"""Mobile numbers and outbox recipients move into the personal-data vault.

The plain column is renamed out of the way first and the sealed column added
under the final name, because a sealed value is bound to its column's name
(AES-GCM associated data "core.user.mobile"): a value sealed under a temporary
name would not open after a rename. Each row is then copied *through the new
field*, which seals it and computes its blind index, and the plain column is
dropped. Reversible: going back copies the opened values into a plain column.

Delivered outbox messages keep no recipient at all (only its masked form);
waiting ones keep it sealed until delivery.

The data step also gives the new pii.reveal permission to the built-in branch
administrator and reviewer roles.
"""

from django.db import migrations, models

import rendao.privacy.fields

PERM = "pii.reveal"
ROLES = ("branch_admin", "reviewer")


def mobiles_seal(apps, schema_editor):
    User = apps.get_model("core", "User")
    for user in User.objects.filter(mobile_plain__isnull=False).exclude(mobile_plain="").iterator():
        user.mobile = user.mobile_plain
        # BlindIndexField.pre_save computes mobile_index from the new value.
        user.save(update_fields=["mobile", "mobile_index"])


def mobiles_unseal(apps, schema_editor):
    User = apps.get_model("core", "User")
    for user in User.objects.filter(mobile__isnull=False).iterator():
        user.mobile_plain = user.mobile or None
        user.save(update_fields=["mobile_plain"])


def recipients_seal(apps, schema_editor):
    from rendao.core.channels import mask_recipient

    OutboxMessage = apps.get_model("core", "OutboxMessage")
    for message in OutboxMessage.objects.iterator():
        plain = message.recipient_plain or ""
        message.recipient_masked = mask_recipient(plain) if plain else ""
        # A delivered message no longer needs its recipient: forget it now.
        message.recipient = "" if message.status == "sent" else plain
        message.save(update_fields=["recipient", "recipient_masked"])


def recipients_unseal(apps, schema_editor):
    OutboxMessage = apps.get_model("core", "OutboxMessage")
    for message in OutboxMessage.objects.iterator():
        # Forgotten recipients come back masked: the only form that is left.
        message.recipient_plain = message.recipient or message.recipient_masked
        message.save(update_fields=["recipient_plain"])


def reveal_grant(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code__in=ROLES):
        if PERM not in role.permissions:
            role.permissions = [*role.permissions, PERM]
            role.save(update_fields=["permissions"])


def reveal_revoke(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        if PERM in (role.permissions or []):
            role.permissions = [p for p in role.permissions if p != PERM]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_outbox_retry_permission")]

    operations = [
        # --- users' sign-in numbers ---
        migrations.RenameField(model_name="user", old_name="mobile", new_name="mobile_plain"),
        migrations.AddField(
            model_name="user",
            name="mobile",
            field=rendao.privacy.fields.EncryptedTextField(blank=True, null=True, verbose_name="mobile number"),
        ),
        migrations.AddField(
            model_name="user",
            name="mobile_index",
            field=rendao.privacy.fields.BlindIndexField(purpose="mobile", source="mobile", unique=True),
        ),
        migrations.RunPython(mobiles_seal, mobiles_unseal),
        migrations.RemoveField(model_name="user", name="mobile_plain"),
        # --- outbox recipients ---
        migrations.RenameField(model_name="outboxmessage", old_name="recipient", new_name="recipient_plain"),
        migrations.AlterField(
            model_name="outboxmessage",
            name="recipient_plain",
            field=models.CharField(blank=True, default="", max_length=255, verbose_name="recipient"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="recipient",
            field=rendao.privacy.fields.EncryptedTextField(blank=True, default="", verbose_name="recipient"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="recipient_masked",
            field=models.CharField(blank=True, default="", max_length=255, verbose_name="recipient"),
            preserve_default=False,
        ),
        migrations.RunPython(recipients_seal, recipients_unseal),
        migrations.RemoveField(model_name="outboxmessage", name="recipient_plain"),
        # --- who may see personal data unmasked ---
        migrations.RunPython(reveal_grant, reveal_revoke),
    ]

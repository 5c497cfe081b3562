"""Per-user message preferences: chosen channels, language, opt-out of optional
messages, and the user's (encrypted) account ids on WeChat, DingTalk and WeCom."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import rendao.privacy.fields


class Migration(migrations.Migration):
    dependencies = [("core", "0005_mobile_into_vault")]

    operations = [
        migrations.CreateModel(
            name="MessagePreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("channels", models.CharField(blank=True, max_length=100, verbose_name="channels")),
                (
                    "optional_messages",
                    models.BooleanField(
                        default=True,
                        help_text="Reminders and news. Sign-in codes and security notices are always sent.",
                        verbose_name="optional messages",
                    ),
                ),
                ("language", models.CharField(blank=True, max_length=10, verbose_name="language")),
                (
                    "wechat_openid",
                    rendao.privacy.fields.EncryptedTextField(blank=True, verbose_name="WeChat openid"),
                ),
                (
                    "dingtalk_userid",
                    rendao.privacy.fields.EncryptedTextField(blank=True, verbose_name="DingTalk user id"),
                ),
                (
                    "wecom_userid",
                    rendao.privacy.fields.EncryptedTextField(blank=True, verbose_name="WeCom user id"),
                ),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="updated at"),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="message_preference",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "message preference",
                "verbose_name_plural": "message preferences",
            },
        ),
    ]

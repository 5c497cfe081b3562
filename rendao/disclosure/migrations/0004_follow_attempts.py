"""Failed "follow my donation" look-ups, counted per caller and per receipt number."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0003_approval"),
    ]

    operations = [
        migrations.CreateModel(
            name="FollowAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("ip_digest", models.CharField(max_length=64, verbose_name="caller digest")),
                ("number_digest", models.CharField(max_length=64, verbose_name="receipt number digest")),
                ("succeeded", models.BooleanField(default=False, verbose_name="succeeded")),
                (
                    "at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="at"),
                ),
            ],
            options={
                "verbose_name": "follow attempt",
                "verbose_name_plural": "follow attempts",
                "indexes": [
                    models.Index(fields=["ip_digest", "at"], name="disclosure_follow_ip_at"),
                    models.Index(fields=["number_digest", "at"], name="disclosure_follow_number_at"),
                ],
            },
        ),
    ]

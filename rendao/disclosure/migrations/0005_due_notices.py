# The calendar's overdue notices (issue 7): written by hand.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_goods_and_recipients_permissions"),
        ("disclosure", "0004_follow_attempts"),
    ]

    operations = [
        migrations.CreateModel(
            name="DueNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject", models.CharField(max_length=64, verbose_name="subject")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("progress_quarterly", "Quarterly progress (Charity Law Art 79)"),
                            ("final_account", "Full account after the end (Charity Law Art 79)"),
                            ("emergency_receipts", "Emergency receipts every 5 days (Charity Law Art 72)"),
                            ("related_party", "Related-party transaction (MCA Order 81)"),
                            ("major_transaction", "Major transaction (MCA Order 81)"),
                            ("annual_report", "Annual work report"),
                            ("annual_audit", "Annual audit report"),
                        ],
                        max_length=32,
                        verbose_name="kind",
                    ),
                ),
                ("period_start", models.DateField(verbose_name="period start")),
                ("period_end", models.DateField(verbose_name="period end")),
                ("due_on", models.DateField(verbose_name="due on")),
                (
                    "stage",
                    models.CharField(
                        choices=[("due_soon", "Due soon"), ("overdue", "Overdue")],
                        max_length=16,
                        verbose_name="stage",
                    ),
                ),
                ("recipients", models.PositiveIntegerField(default=0, verbose_name="messages sent")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "branch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.branch",
                        verbose_name="notified branch",
                    ),
                ),
                (
                    "responsible",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.branch",
                        verbose_name="responsible branch",
                    ),
                ),
            ],
            options={
                "verbose_name": "disclosure due notice",
                "verbose_name_plural": "disclosure due notices",
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subject", "kind", "period_start", "period_end", "stage", "branch"),
                        name="disclosure_duenotice_once",
                    )
                ],
            },
        ),
    ]

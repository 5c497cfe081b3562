# Daily reconciliation per payment channel: the runs and their differences.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

DIFFERENCE_KINDS = [
    ("missing_locally", "Paid at the channel, not recorded here"),
    ("missing_at_channel", "Recorded here, not in the channel's bill"),
    ("amount_differs", "Amounts differ"),
    ("duplicate", "Duplicate"),
    ("refund_mismatch", "Refund mismatch"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0006_refund_services"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReconciliationRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("channel", models.CharField(max_length=32, verbose_name="payment channel")),
                ("day", models.DateField(verbose_name="day")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("download", "Downloaded from the channel"),
                            ("upload", "Uploaded by staff"),
                        ],
                        max_length=16,
                        verbose_name="source",
                    ),
                ),
                ("bill_sha256", models.CharField(max_length=64, verbose_name="bill SHA-256")),
                ("bill_count", models.PositiveIntegerField(verbose_name="rows in the bill")),
                ("local_count", models.PositiveIntegerField(verbose_name="local records")),
                ("matched_count", models.PositiveIntegerField(verbose_name="matched")),
                ("channel_paid_fen", models.BigIntegerField(verbose_name="paid at the channel (fen)")),
                (
                    "channel_refunded_fen",
                    models.BigIntegerField(verbose_name="refunded at the channel (fen)"),
                ),
                ("local_paid_fen", models.BigIntegerField(verbose_name="paid in our records (fen)")),
                ("local_refunded_fen", models.BigIntegerField(verbose_name="refunded in our records (fen)")),
                (
                    "status",
                    models.CharField(
                        choices=[("balanced", "Balanced"), ("differences", "Differences found")],
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("ledger_index", models.BigIntegerField(blank=True, null=True, verbose_name="ledger entry")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "reconciliation",
                "verbose_name_plural": "reconciliations",
                "ordering": ("-day", "-created_at", "-id"),
            },
        ),
        migrations.CreateModel(
            name="ReconciliationDifference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=DIFFERENCE_KINDS, max_length=32, verbose_name="kind")),
                ("out_trade_no", models.CharField(blank=True, max_length=64, verbose_name="order number")),
                ("out_refund_no", models.CharField(blank=True, max_length=64, verbose_name="refund number")),
                (
                    "channel_amount_fen",
                    models.BigIntegerField(blank=True, null=True, verbose_name="amount at the channel (fen)"),
                ),
                (
                    "local_amount_fen",
                    models.BigIntegerField(blank=True, null=True, verbose_name="amount in our records (fen)"),
                ),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="note")),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="differences",
                        to="funds.reconciliationrun",
                        verbose_name="reconciliation",
                    ),
                ),
            ],
            options={
                "verbose_name": "reconciliation difference",
                "verbose_name_plural": "reconciliation differences",
                "ordering": ("run", "id"),
            },
        ),
        migrations.AddConstraint(
            model_name="reconciliationrun",
            constraint=models.UniqueConstraint(
                fields=("channel", "day", "bill_sha256"), name="funds_reconciliationrun_unique_bill"
            ),
        ),
        migrations.AddConstraint(
            model_name="reconciliationrun",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["balanced", "differences"])),
                name="funds_reconciliationrun_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reconciliationdifference",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", [kind for kind, _label in DIFFERENCE_KINDS])),
                name="funds_reconciliationdifference_kind_valid",
            ),
        ),
    ]

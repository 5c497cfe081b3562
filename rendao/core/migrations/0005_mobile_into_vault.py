"""Placeholder filled in by the work on issue #3."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0004_outbox_retry_permission")]
    operations: list[migrations.operations.base.Operation] = []

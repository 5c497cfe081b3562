"""Placeholder filled in by the work on issue #3."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations: list[migrations.operations.base.Operation] = []

"""Placeholder filled in by the work on issue #3."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0005_mobile_into_vault")]
    operations: list[migrations.operations.base.Operation] = []

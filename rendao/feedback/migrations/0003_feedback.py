# Placeholder filled by the work on this part of issue 6 (kept so parallel work never collides on numbers).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("feedback", "0002_initial")]

    operations: list[migrations.operations.base.Operation] = []

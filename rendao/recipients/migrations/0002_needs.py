# Placeholder filled by the work on this part of issue 6 (kept so parallel work never collides on numbers).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("recipients", "0001_initial")]

    operations: list[migrations.operations.base.Operation] = []

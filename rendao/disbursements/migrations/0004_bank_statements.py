# Placeholder filled by the work on this part of issue 6 (kept so parallel work never collides on numbers).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("disbursements", "0003_disbursement_flow")]

    operations: list[migrations.operations.base.Operation] = []

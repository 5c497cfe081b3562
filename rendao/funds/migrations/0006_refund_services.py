# Placeholder so that parallel work does not fork the migration graph; filled in
# (or left empty) by the work that owns it.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("funds", "0005_refunds")]

    operations: list[migrations.operations.base.Operation] = []

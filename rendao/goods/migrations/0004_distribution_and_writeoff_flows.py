"""Default approval flows of distribution orders and write-offs; picks and sign-offs kept as recorded.

"goods_distribution": the branch administrator of the order's branch. Above
settings.APPROVAL_TWO_PERSON_FEN the engine adds a second step of the same
role, so a large order needs two distinct approvers.

"goods_write_off": always two steps, whatever the value: the branch
administrator of the warehouse's branch, then one of the branch above. The
engine refuses the requester and refuses one person deciding two steps, so a
write-off passes through three distinct people.

Triggers (SQLite and PostgreSQL): a pick's lot, line, move and issued quantity
never change and the received quantity is written once; a pick is never
deleted. A recipient sign-off is never deleted and only its investigation
fields may be filled in later.
"""

from django.db import migrations

FLOWS = {
    "goods_distribution": ("物资发放审批（默认）", [(1, "branch_admin", "same", 48)]),
    "goods_write_off": (
        "物资报损审批（默认，双人）",
        [(1, "branch_admin", "same", 48), (2, "branch_admin", "parent", 72)],
    ),
}

PICK_CHANGED = (
    "NEW.quantity <> OLD.quantity OR NEW.lot_id <> OLD.lot_id OR NEW.line_id <> OLD.line_id "
    "OR NEW.move_id <> OLD.move_id "
    "OR (OLD.quantity_received IS NOT NULL AND NEW.quantity_received IS NOT OLD.quantity_received)"
)
SIGNOFF_CHANGED = (
    "NEW.order_id <> OLD.order_id OR NEW.signed_by_id <> OLD.signed_by_id "
    "OR NEW.by_staff_upload <> OLD.by_staff_upload OR NEW.form_id IS NOT OLD.form_id "
    "OR NEW.shortfall <> OLD.shortfall OR NEW.note <> OLD.note "
    "OR NEW.ledger_index <> OLD.ledger_index OR NEW.at <> OLD.at"
)

SQLITE = [
    f"""CREATE TRIGGER goods_pick_no_change BEFORE UPDATE ON goods_pick WHEN {PICK_CHANGED}
        BEGIN SELECT RAISE(ABORT, 'goods_pick rows are append-only'); END;""",
    """CREATE TRIGGER goods_pick_no_delete BEFORE DELETE ON goods_pick
        BEGIN SELECT RAISE(ABORT, 'goods_pick rows are append-only'); END;""",
    f"""CREATE TRIGGER goods_ordersignoff_no_change BEFORE UPDATE ON goods_ordersignoff
        WHEN {SIGNOFF_CHANGED}
        BEGIN SELECT RAISE(ABORT, 'goods_ordersignoff rows are append-only'); END;""",
    """CREATE TRIGGER goods_ordersignoff_no_delete BEFORE DELETE ON goods_ordersignoff
        BEGIN SELECT RAISE(ABORT, 'goods_ordersignoff rows are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS goods_pick_no_change;",
    "DROP TRIGGER IF EXISTS goods_pick_no_delete;",
    "DROP TRIGGER IF EXISTS goods_ordersignoff_no_change;",
    "DROP TRIGGER IF EXISTS goods_ordersignoff_no_delete;",
]
# PostgreSQL spells "IS NOT" between values as IS DISTINCT FROM.
_PG_PICK = PICK_CHANGED.replace("IS NOT OLD", "IS DISTINCT FROM OLD")
_PG_SIGNOFF = SIGNOFF_CHANGED.replace("IS NOT OLD", "IS DISTINCT FROM OLD")
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION goods_pick_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR {_PG_PICK} THEN
           RAISE EXCEPTION 'goods_pick rows are append-only';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER goods_pick_append_only BEFORE UPDATE OR DELETE ON goods_pick
       FOR EACH ROW EXECUTE FUNCTION goods_pick_guard();""",
    f"""CREATE OR REPLACE FUNCTION goods_ordersignoff_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR {_PG_SIGNOFF} THEN
           RAISE EXCEPTION 'goods_ordersignoff rows are append-only';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER goods_ordersignoff_append_only BEFORE UPDATE OR DELETE ON goods_ordersignoff
       FOR EACH ROW EXECUTE FUNCTION goods_ordersignoff_guard();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS goods_pick_append_only ON goods_pick;",
    "DROP TRIGGER IF EXISTS goods_ordersignoff_append_only ON goods_ordersignoff;",
    "DROP FUNCTION IF EXISTS goods_pick_guard();",
    "DROP FUNCTION IF EXISTS goods_ordersignoff_guard();",
]


def seed_flows(apps, schema_editor):
    Flow = apps.get_model("approvals", "Flow")
    FlowStep = apps.get_model("approvals", "FlowStep")
    Role = apps.get_model("core", "Role")
    for process_type, (name, steps) in FLOWS.items():
        if Flow.objects.filter(process_type=process_type, branch__isnull=True).exists():
            continue
        flow = Flow.objects.create(process_type=process_type, branch=None, name=name, is_active=True)
        for position, code, level, hours in steps:
            FlowStep.objects.create(
                flow=flow, position=position, role=Role.objects.get(code=code), level=level, hours=hours
            )


def unseed_flows(apps, schema_editor):
    # Left in place, as in funds.0003: seed_flows skips existing flows when re-applied.
    return


def triggers(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def triggers_reverse(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("goods", "0003_stock_append_only"),
        ("approvals", "0002_default_flows"),
        ("core", "0008_goods_and_recipients_permissions"),
    ]

    operations = [
        migrations.RunPython(seed_flows, unseed_flows),
        migrations.RunPython(triggers, triggers_reverse),
    ]

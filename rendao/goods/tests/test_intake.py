"""intake_record: donors, masking, lots into stock with log entries, refusals that change nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.goods.models import DonorKind, GoodsReceipt, Intake, Lot, Move, Stock
from rendao.goods.tests.factories import line, receive, soon, warehouse
from rendao.ledger.models import Entry, EntryKind
from rendao.ledger.services import commitment

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Intake.objects.count(),
        Lot.objects.count(),
        Stock.objects.count(),
        Move.objects.count(),
        Entry.objects.count(),
        GoodsReceipt.objects.count(),
    )


def test_an_organisations_goods_go_into_stock_with_one_log_entry_per_lot(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    intake = receive(
        actor,
        wh,
        line(item_name="书包", unit="个", quantity=600, unit_value_fen=5_000),
        line(item_name="矿泉水", unit="箱", quantity=200, unit_value_fen=2_500, expires_on=soon(90)),
    )
    assert intake.number == f"RK-{timezone.localdate().year}-{intake.pk:06d}"
    assert intake.public_name == "厦门爱心企业有限公司"
    assert intake.value_fen == 600 * 5_000 + 200 * 2_500
    lots = list(intake.lots.order_by("id"))
    assert [x.number for x in lots] == [f"{intake.number}-1", f"{intake.number}-2"]
    assert [Stock.objects.get(lot=x, warehouse=wh).quantity for x in lots] == [600, 200]
    leaves = [
        json.loads(bytes(e.data))
        for e in Entry.objects.filter(kind=EntryKind.GOODS_RECEIVED).order_by("index")
    ]
    assert [leaf["lot"] for leaf in leaves] == [x.number for x in lots]
    assert leaves[0]["intake"] == intake.number
    assert leaves[0]["organisation"] == "厦门爱心企业有限公司"
    assert leaves[0]["donor"] == commitment(bytes.fromhex(intake.commitment_salt), intake.number)
    assert intake.ledger_index == leaves[0]["index"]
    assert AuditEvent.objects.filter(action="goods.intake_record", object_id=str(intake.pk)).exists()


def test_a_persons_name_is_sealed_masked_and_never_logged(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    intake = receive(
        actor,
        wh,
        donor_kind=DonorKind.PERSON,
        organisation_name="",
        donor_name="王小明",
        donor_mobile="138 0013 8000",
    )
    intake.refresh_from_db()
    assert intake.public_name != "王小明"
    assert intake.public_name.startswith("王")
    assert intake.donor_mobile == "+8613800138000"
    for entry in Entry.objects.all():
        text = bytes(entry.data).decode()
        assert "王小明" not in text
        assert "13800138000" not in text
    leaf = json.loads(bytes(Entry.objects.get(kind=EntryKind.GOODS_RECEIVED).data))
    assert "organisation" not in leaf
    assert leaf["donor_kind"] == "person"


def test_an_anonymous_donor_is_a_caring_person(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    intake = receive(actor, wh, donor_kind=DonorKind.ANONYMOUS, organisation_name="")
    assert intake.public_name == "爱心人士"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"donor_kind": DonorKind.PERSON, "organisation_name": ""}, "donor_name"),
        (
            {
                "donor_kind": DonorKind.PERSON,
                "organisation_name": "",
                "donor_name": "李四",
                "donor_mobile": "12345",
            },
            "donor_mobile",
        ),
        ({"donor_kind": DonorKind.ORGANISATION, "organisation_name": " "}, "organisation_name"),
        ({"donor_kind": DonorKind.ANONYMOUS, "organisation_name": "", "donor_name": "李四"}, "donor_kind"),
        ({"donor_kind": "robot"}, "donor_kind"),
        ({"received_on": timezone.localdate() + timedelta(days=1)}, "received_on"),
    ],
)
def test_it_refuses_bad_donor_details(personas: Personas, fields: dict[str, object], field: str) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        receive(actor, wh, **fields)
    assert field in exc.value.message_dict
    assert _counts() == before


@pytest.mark.parametrize(
    "bad",
    [
        {"quantity": 0},
        {"quantity": -3},
        {"quantity": True},
        {"quantity": 2.5},
        {"unit_value_fen": -1},
        {"item_name": ""},
        {"unit": ""},
        {"item_name": "x" * 101},
    ],
)
def test_it_refuses_bad_lines_naming_the_line(personas: Personas, bad: dict[str, object]) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        receive(actor, wh, line(), line(**bad))
    assert any(m.startswith("Line 2:") for m in exc.value.message_dict["lines"])
    assert _counts() == before


def test_it_refuses_goods_that_expired_before_arrival(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        receive(actor, wh, line(expires_on=timezone.localdate() - timedelta(days=1)))
    assert "expired" in exc.value.message_dict["lines"][0]
    assert _counts() == before


def test_it_refuses_no_lines_a_closed_warehouse_and_staff_of_another_district(personas: Personas) -> None:
    from rendao.goods.intake import intake_record
    from rendao.goods.warehouses import warehouse_close

    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    with pytest.raises(ValidationError):
        intake_record(actor=actor, warehouse=wh, donor_kind=DonorKind.ANONYMOUS, lines=[])
    with pytest.raises(PermissionDenied):
        receive(personas.huli_staff, wh)
    with pytest.raises(PermissionDenied):
        receive(personas.auditor, wh)
    warehouse_close(actor=actor, warehouse=wh)
    wh.refresh_from_db()
    with pytest.raises(ValidationError):
        receive(actor, wh)
    assert Intake.objects.count() == 0


def test_a_receipt_needs_a_value_unless_waived(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    with pytest.raises(ValidationError):
        receive(actor, wh, line(unit_value_fen=0))
    intake = receive(actor, wh, line(unit_value_fen=0), receipt_wanted=False)
    assert not GoodsReceipt.objects.filter(intake=intake).exists()
    event = AuditEvent.objects.get(action="goods.intake_record", object_id=str(intake.pk))
    assert event.after is not None
    assert event.after["receipt_waived"] is True


def test_a_project_must_be_open(personas: Personas) -> None:
    from rendao.funds.models import ProjectStatus
    from rendao.funds.tests.factories import open_project

    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    project = open_project(personas.tree.siming, personas.finance)
    intake = receive(actor, wh, project=project)
    assert intake.project == project
    project.status = ProjectStatus.CLOSED
    project.save()
    with pytest.raises(ValidationError) as exc:
        receive(actor, wh, project=project)
    assert "project" in exc.value.message_dict

"""Recording an in-kind donation: intake into a warehouse, lots, stock, log entries, receipt.

`intake_record` is the one write. In one transaction it stores the intake and
its lots, puts every lot into the warehouse through stock.stock_receive (each
lot one move and one "goods_received" log entry), issues the Art 38 receipt in
the money receipts' gapless series (unless the donor waived it) and writes the
audit row. Any refusal changes nothing.

Donors: an organisation's name is public (on the log too); a person's name and
mobile are sealed, shown masked, and never logged; an anonymous donor is
爱心人士. Every donor appears on the log only as a salted commitment whose salt
is printed on the donor's copy of the receipt, as for money.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.masking import mask_name
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, require_perm
from rendao.funds.models import FundraisingProject, ProjectStatus
from rendao.funds.receipts.amounts import MAX_FEN
from rendao.goods.models import DonorKind, Intake, Lot, Warehouse
from rendao.goods.stock import stock_receive
from rendao.goods.upload_purposes import INTAKE_PHOTO
from rendao.ledger.services import commitment, new_salt
from rendao.privacy.validation import parse_mobile

if TYPE_CHECKING:
    from rendao.core.models import User
    from rendao.recipients.models import Need
    from rendao.uploads.models import Attachment

ANONYMOUS_NAME = "爱心人士"
MAX_LINES = 200
MAX_PHOTOS = 20
# PositiveIntegerField holds 2^31 - 1 on every database; a real intake is far below.
MAX_QUANTITY = 10_000_000
MAX_UNIT_VALUE_FEN = 10**11


@dataclass(frozen=True)
class IntakeLine:
    """One line of an intake: becomes one lot."""

    item_name: str
    unit: str
    quantity: int
    unit_value_fen: int = 0
    specification: str = ""
    batch: str = ""
    expires_on: datetime.date | None = None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def line_errors(line: IntakeLine, *, received_on: datetime.date, today: datetime.date) -> list[str]:
    errors: list[str] = []
    name = line.item_name.strip() if isinstance(line.item_name, str) else ""
    unit = line.unit.strip() if isinstance(line.unit, str) else ""
    if not name or len(name) > 100:
        errors.append(_("enter the item (at most 100 characters)"))
    if not isinstance(line.specification, str) or len(line.specification.strip()) > 100:
        errors.append(_("the specification is at most 100 characters"))
    if not unit or len(unit) > 20:
        errors.append(_("enter the unit, e.g. 箱 or 个 (at most 20 characters)"))
    if not _is_int(line.quantity) or not 0 < line.quantity <= MAX_QUANTITY:
        errors.append(_("the quantity must be a whole number from 1 to 10,000,000"))
    if not _is_int(line.unit_value_fen) or not 0 <= line.unit_value_fen <= MAX_UNIT_VALUE_FEN:
        errors.append(_("the unit value must be a whole number of fen, zero or more"))
    if not isinstance(line.batch, str) or len(line.batch.strip()) > 64:
        errors.append(_("the batch is at most 64 characters"))
    if line.expires_on is not None:
        if not isinstance(line.expires_on, datetime.date):
            errors.append(_("the expiry date is not a date"))
        elif line.expires_on < received_on or line.expires_on < today:
            errors.append(
                _("it has expired already (%(date)s) and cannot be taken into stock")
                % {"date": line.expires_on.isoformat()}
            )
    return errors


def _check_lines(lines: Sequence[IntakeLine], *, received_on: datetime.date, today: datetime.date) -> int:
    """All line errors at once, each naming its line; returns the total value in fen."""
    if not lines:
        raise ValidationError({"lines": _("Add at least one line of goods.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("At most 200 lines per intake.")})
    messages = []
    for n, line in enumerate(lines, start=1):
        errors = line_errors(line, received_on=received_on, today=today)
        if errors:
            messages.append(_("Line %(n)s: %(errors)s.") % {"n": n, "errors": "; ".join(errors)})
    if messages:
        raise ValidationError({"lines": messages})
    total = sum(line.quantity * line.unit_value_fen for line in lines)
    if total > MAX_FEN:
        raise ValidationError({"lines": _("The total value is too large.")})
    return total


def _check_donor(
    donor_kind: str, organisation_name: str, donor_name: str, donor_mobile: str
) -> tuple[str, str, str, str]:
    """(organisation, name, E.164 mobile, public name) or ValidationError."""
    organisation_name = (organisation_name or "").strip()
    donor_name = (donor_name or "").strip()
    donor_mobile = (donor_mobile or "").strip()
    if donor_kind == DonorKind.ORGANISATION:
        if not organisation_name or len(organisation_name) > 200:
            raise ValidationError({"organisation_name": _("Enter the organisation's name.")})
        if donor_name or donor_mobile:
            # A contact person of an organisation is not a donor; keep no stray personal data.
            raise ValidationError({"donor_name": _("An organisation's intake names no person.")})
        return organisation_name, "", "", organisation_name
    if donor_kind == DonorKind.PERSON:
        if organisation_name:
            raise ValidationError({"organisation_name": _("A person's intake names no organisation.")})
        if not donor_name or len(donor_name) > 100:
            raise ValidationError({"donor_name": _("Enter the donor's name.")})
        mobile = ""
        if donor_mobile:
            try:
                mobile = parse_mobile(donor_mobile)
            except ValidationError as exc:
                raise ValidationError({"donor_mobile": exc.messages[0]}) from None
        return "", donor_name, mobile, mask_name(donor_name)
    if donor_kind == DonorKind.ANONYMOUS:
        if organisation_name or donor_name or donor_mobile:
            raise ValidationError({"donor_kind": _("An anonymous intake names nobody.")})
        return "", "", "", ANONYMOUS_NAME
    raise ValidationError({"donor_kind": _("Choose who gave the goods.")})


def _check_project(project: FundraisingProject | None, warehouse: Warehouse, actor: User) -> None:
    if project is None:
        return
    if project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": _("Goods can be received only for a project that is open.")})
    # The warehouse's branch or an ancestor runs the project, or the actor sees it anyway.
    if not (
        warehouse.branch.path.startswith(project.branch.path)
        or in_scope(actor, Perm.GOODS_VIEW, project.branch)
    ):
        raise ValidationError({"project": _("This project is not in your branch's scope.")})


def _check_need(need: Need | None, warehouse: Warehouse, actor: User) -> None:
    if need is None:
        return
    from rendao.recipients.models import NeedStatus

    if need.status != NeedStatus.OPEN:
        raise ValidationError({"need": _("This need is no longer open.")})
    if not in_scope(actor, Perm.GOODS_VIEW, need.institution.branch):
        raise ValidationError({"need": _("This need is not in your branch's scope.")})


def _check_photos(photos: Sequence[Attachment], warehouse: Warehouse) -> None:
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most 20 photos per intake.")})
    for photo in photos:
        if photo.purpose != INTAKE_PHOTO or photo.branch_id != warehouse.branch_id:
            raise ValidationError({"photos": _("A photo was not uploaded for an intake at this branch.")})


def ledger_extra(intake: Intake) -> dict[str, object]:
    """What each lot's "goods_received" entry says about its intake (no person's name)."""
    extra: dict[str, object] = {
        "intake": intake.number,
        "donor": intake.commitment,
        "donor_kind": intake.donor_kind,
        "project": intake.project_id,
        "branch": intake.branch_id,
    }
    if intake.donor_kind == DonorKind.ORGANISATION:
        extra["organisation"] = intake.organisation_name
    return extra


def intake_record(
    *,
    actor: User,
    warehouse: Warehouse,
    donor_kind: str,
    lines: Sequence[IntakeLine],
    received_on: datetime.date | None = None,
    organisation_name: str = "",
    donor_name: str = "",
    donor_mobile: str = "",
    project: FundraisingProject | None = None,
    need: Need | None = None,
    receipt_wanted: bool = True,
    photos: Sequence[Attachment] = (),
    meta: RequestMeta | None = None,
) -> Intake:
    """Record goods received from one donor into `warehouse`; see the module doc."""
    require_perm(actor, Perm.GOODS_MANAGE, warehouse.branch)
    today = timezone.localdate()
    received_on = received_on or today
    if not isinstance(received_on, datetime.date) or received_on > today:
        raise ValidationError({"received_on": _("The date received cannot be in the future.")})
    if not warehouse.is_active:
        raise ValidationError({"warehouse": _("This warehouse is closed and takes no goods.")})
    organisation, name, mobile, public_name = _check_donor(
        donor_kind, organisation_name, donor_name, donor_mobile
    )
    total = _check_lines(lines, received_on=received_on, today=today)
    if receipt_wanted and total <= 0:
        raise ValidationError(
            {
                "lines": _(
                    "A receipt states the goods' value: enter an estimated unit value, or waive the receipt."
                )
            }
        )
    _check_project(project, warehouse, actor)
    _check_need(need, warehouse, actor)
    _check_photos(photos, warehouse)

    with transaction.atomic():
        salt = new_salt()
        intake = Intake(
            # A placeholder until the primary key gives the real number below.
            number=f"RK-{uuid.uuid4().hex[:16]}",
            branch=warehouse.branch,
            warehouse=warehouse,
            project=project,
            need=need,
            donor_kind=donor_kind,
            organisation_name=organisation,
            donor_name=name,
            donor_mobile=mobile,
            public_name=public_name,
            commitment_salt=salt.hex(),
            receipt_wanted=receipt_wanted,
            value_fen=total,
            received_on=received_on,
            received_by=actor,
        )
        intake.save(force_insert=True)
        intake.number = f"RK-{received_on.year}-{intake.pk:06d}"
        intake.commitment = commitment(salt, intake.number)
        if photos:
            intake.photos.set(photos)
        extra = ledger_extra(intake)
        first_index: int | None = None
        for n, line in enumerate(lines, start=1):
            lot = Lot.objects.create(
                intake=intake,
                number=f"{intake.number}-{n}",
                item_name=line.item_name.strip(),
                specification=line.specification.strip(),
                unit=line.unit.strip(),
                batch=line.batch.strip(),
                expires_on=line.expires_on,
                unit_value_fen=line.unit_value_fen,
                quantity_received=line.quantity,
                # The identity holds from the first write; stock_receive then places it.
                quantity_on_hand=line.quantity,
            )
            move = stock_receive(
                lot=lot, warehouse=warehouse, actor=actor, reference=f"intake:{intake.number}", extra=extra
            )
            if first_index is None:
                first_index = move.ledger_index
        intake.ledger_index = first_index
        intake.save(update_fields=["number", "commitment", "ledger_index"])
        receipt_number = ""
        if receipt_wanted:
            from rendao.goods.receipts import goods_receipt_issue

            receipt_number = goods_receipt_issue(intake=intake, actor=actor).number
        audit_record(
            actor=actor,
            action="goods.intake_record",
            obj=intake,
            branch=intake.branch,
            after={
                "number": intake.number,
                "warehouse": warehouse.code,
                "donor_kind": donor_kind,
                "public_name": public_name,
                "lots": len(lines),
                "value_fen": total,
                "project": project.pk if project is not None else None,
                "receipt": receipt_number or None,
                "receipt_waived": not receipt_wanted,
                "photos": len(photos),
            },
            meta=meta,
        )
    return intake

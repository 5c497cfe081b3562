"""Distribution orders (物资发放单): from a warehouse to a recipient institution, signed off on arrival.

Lifecycle::

    requested ──(engine)──▶ approved ──issue──▶ issued ──sign-off──▶ signed_off
        │                                          └──────────────▶ shortfall ──investigated──▶ closed
        └──(engine)──▶ rejected / withdrawn

- `order_request`: staff with GOODS_MANAGE at the warehouse's branch ask for
  items by name, specification and unit; the lines must be in stock there at
  the time of asking. The order goes to the "goods_distribution" flow; its
  amount for the engine (and its two-person rule) is the estimated value.
- `order_issue`: an approved order is issued against lots, earliest expiry
  first (FEFO) unless explicit picks are given; all picks or none, each through
  `stock.stock_remove` (move + "goods_issued" log entry). The project's donors
  are told through `use_report_record`; the institution's representatives get
  the sign-off link after commit.
- `order_signoff`: a representative of the recipient (or staff, uploading the
  signed paper form) records what arrived per pick; a "recipient_signoff" log
  entry holds the per-line totals and whether anything was short.
- `order_shortfall_close`: staff record the findings of the investigation.
  Missing goods are never silently put back: found goods come back as a new
  intake, so the log shows them arrive again.

Stock is not reserved between request and issue: issue re-checks and refuses
if the goods have gone meanwhile (nothing changes; the order stays approved).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.approvals.services import request_submit
from rendao.core.audit import audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, require_perm
from rendao.goods.models import (
    DistributionOrder,
    Lot,
    MoveKind,
    OrderLine,
    OrderSignoff,
    OrderStatus,
    Pick,
    Stock,
    Warehouse,
)
from rendao.goods.stock import stock_remove
from rendao.ledger.models import EntryKind
from rendao.ledger.services import ledger_append
from rendao.recipients.models import Institution, InstitutionMember, Need, NeedStatus

if TYPE_CHECKING:
    from rendao.approvals.models import ApprovalRequest
    from rendao.core.audit import RequestMeta
    from rendao.core.models import Branch, User
    from rendao.funds.models import FundraisingProject
    from rendao.uploads.models import Attachment

PROCESS_TYPE = "goods_distribution"
PERM = Perm.GOODS_MANAGE
SIGNOFF_FORM_PURPOSE = "goods_signoff_form"
# Its own salt: a sign-off token is useless as any other signed value, and back.
SIGNOFF_SALT = "rendao.goods.signoff"
MAX_LINES = 50
# A typo guard: one line of one order is never a million units.
MAX_LINE_QUANTITY = 1_000_000

S = OrderStatus
Party = Literal["engine", "staff", "recipient"]

TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], Party] = {
    (S.REQUESTED, S.APPROVED): "engine",
    (S.REQUESTED, S.REJECTED): "engine",
    (S.REQUESTED, S.WITHDRAWN): "engine",
    (S.APPROVED, S.ISSUED): "staff",
    (S.ISSUED, S.SIGNED_OFF): "recipient",
    (S.ISSUED, S.SHORTFALL): "recipient",
    (S.SHORTFALL, S.CLOSED): "staff",
}


@dataclass(frozen=True)
class LineRequest:
    item_name: str
    specification: str
    unit: str
    quantity: int


@dataclass(frozen=True)
class PlannedPick:
    line: OrderLine
    lot: Lot
    quantity: int


def _move(order: DistributionOrder, to: OrderStatus, by: Party) -> None:
    """Check a status change against the table (the caller holds the row lock)."""
    party = TRANSITIONS.get((OrderStatus(order.status), to))
    if party is None or party != by:
        raise ValidationError(
            _("An order that is “%(frm)s” cannot become “%(to)s”.")
            % {"frm": OrderStatus(order.status).label, "to": to.label},
            code="bad_transition",
        )
    order.status = to


def _locked(order: DistributionOrder) -> DistributionOrder:
    return (
        DistributionOrder.objects.select_for_update(of=("self",))
        .select_related("warehouse", "recipient", "branch", "project", "need")
        .get(pk=order.pk)
    )


def _today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


# --- stock lookups -------------------------------------------------------------------------------


def _usable_for(project_id: int | None) -> Q:
    """Lots an order for `project_id` may draw on: the donors' designation is kept.

    Goods given to a project are used for that project only (Red Cross Law Art 21);
    goods given without one are general and may serve any order.
    """
    general = Q(lot__intake__project__isnull=True)
    return general if project_id is None else general | Q(lot__intake__project_id=project_id)


def fefo_stock(
    *,
    warehouse: Warehouse,
    item_name: str,
    specification: str,
    unit: str,
    today: date,
    project_id: int | None = None,
) -> QuerySet[Stock]:
    """Stock rows of matching, unexpired lots usable for the project, in the order they are issued: FEFO.

    Earliest expiry first, lots without expiry last, then the oldest lot.
    """
    return (
        Stock.objects.filter(
            _usable_for(project_id),
            warehouse=warehouse,
            quantity__gt=0,
            lot__item_name=item_name,
            lot__specification=specification,
            lot__unit=unit,
        )
        .exclude(lot__expires_on__lt=today)
        .select_related("lot")
        .order_by(F("lot__expires_on").asc(nulls_last=True), "lot__intake__received_on", "lot_id")
    )


def available(
    *,
    warehouse: Warehouse,
    item_name: str,
    specification: str,
    unit: str,
    today: date,
    project_id: int | None = None,
) -> int:
    """Units of an item that can be issued from a warehouse today for the project (expired lots excluded)."""
    total = fefo_stock(
        warehouse=warehouse,
        item_name=item_name,
        specification=specification,
        unit=unit,
        today=today,
        project_id=project_id,
    ).aggregate(total=Sum("quantity"))["total"]
    return int(total or 0)


def _describe(item_name: str, specification: str, unit: str) -> str:
    return f"{item_name}（{specification}）" if specification else item_name


def _not_enough(item_name: str, specification: str, unit: str, wanted: int, have: int) -> ValidationError:
    return ValidationError(
        _(
            "Only %(available)s %(unit)s of %(item)s can be issued from this warehouse; "
            "%(wanted)s were asked for."
        )
        % {
            "available": have,
            "unit": unit,
            "item": _describe(item_name, specification, unit),
            "wanted": wanted,
        },
        code="not_in_stock",
    )


def fefo_plan(*, order: DistributionOrder, today: date | None = None) -> list[PlannedPick]:
    """The picks FEFO would make for the order now; ValidationError when stock is short."""
    today = today or _today()
    plan: list[PlannedPick] = []
    for line in order.lines.all():
        wanted = line.quantity
        rows = fefo_stock(
            warehouse=order.warehouse,
            item_name=line.item_name,
            specification=line.specification,
            unit=line.unit,
            today=today,
            project_id=order.project_id,
        )
        for row in rows:
            if wanted == 0:
                break
            take = min(wanted, row.quantity)
            plan.append(PlannedPick(line=line, lot=row.lot, quantity=take))
            wanted -= take
        if wanted:
            have = line.quantity - wanted
            raise _not_enough(line.item_name, line.specification, line.unit, line.quantity, have)
    return plan


# --- request -------------------------------------------------------------------------------------


def _clean_lines(lines: list[Any]) -> list[LineRequest]:
    if not lines:
        raise ValidationError({"lines": _("Add at least one item to the order.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("An order has at most %(n)s lines.") % {"n": MAX_LINES}})
    cleaned: list[LineRequest] = []
    seen: set[tuple[str, str, str]] = set()
    for raw in lines:
        try:
            item_name, specification, unit, quantity = raw
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                {"lines": _("Each line names an item, specification, unit and quantity.")}
            ) from exc
        item_name = str(item_name or "").strip()
        specification = str(specification or "").strip()
        unit = str(unit or "").strip()
        if not item_name or len(item_name) > 100:
            raise ValidationError({"lines": _("Give each line's item (at most 100 characters).")})
        if len(specification) > 100:
            raise ValidationError({"lines": _("A specification has at most 100 characters.")})
        if not unit or len(unit) > 20:
            raise ValidationError({"lines": _("Give each line's unit (at most 20 characters).")})
        if type(quantity) is not int or not 0 < quantity <= MAX_LINE_QUANTITY:
            raise ValidationError({"lines": _("Each line's quantity must be a whole number above zero.")})
        key = (item_name, specification, unit)
        if key in seen:
            raise ValidationError(
                {"lines": _("%(item)s is on two lines: put it on one.") % {"item": _describe(*key)}}
            )
        seen.add(key)
        cleaned.append(LineRequest(item_name, specification, unit, quantity))
    return cleaned


def recipient_allowed(*, actor: User, warehouse: Warehouse, recipient: Institution) -> bool:
    """A recipient in the actor's scope, or one of a branch above the warehouse's (the city's hospitals)."""
    if in_scope(actor, PERM, recipient.branch):
        return True
    return bool(warehouse.branch.path.startswith(recipient.branch.path))


def _estimate(warehouse: Warehouse, lines: list[LineRequest], today: date, project_id: int | None) -> int:
    value = 0
    for line in lines:
        wanted = line.quantity
        rows = fefo_stock(
            warehouse=warehouse,
            item_name=line.item_name,
            specification=line.specification,
            unit=line.unit,
            today=today,
            project_id=project_id,
        )
        for row in rows:
            if wanted == 0:
                break
            take = min(wanted, row.quantity)
            value += take * row.lot.unit_value_fen
            wanted -= take
        if wanted:
            have = line.quantity - wanted
            raise ValidationError(
                {"lines": _not_enough(line.item_name, line.specification, line.unit, line.quantity, have)}
            )
    return value


def order_request(
    *,
    actor: User,
    warehouse: Warehouse,
    recipient: Institution,
    purpose: str,
    lines: list[Any],
    project: FundraisingProject | None = None,
    need: Need | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> DistributionOrder:
    """Ask to hand goods from `warehouse` to `recipient`; the order goes into approval."""
    require_perm(actor, PERM, warehouse.branch)
    errors: dict[str, str] = {}
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 300:
        errors["purpose"] = _("Say what the goods are for (at most 300 characters).")
    if not warehouse.is_active:
        errors["warehouse"] = _("This warehouse is closed.")
    if not recipient.is_active:
        errors["recipient"] = _("This institution no longer receives goods.")
    elif not recipient_allowed(actor=actor, warehouse=warehouse, recipient=recipient):
        errors["recipient"] = _("This institution is outside your branch.")
    if need is not None and (need.institution_id != recipient.pk or need.status != NeedStatus.OPEN):
        errors["need"] = _("Choose an open need published by the recipient institution.")
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_lines(lines)
    now = now or timezone.now()
    with transaction.atomic():
        value = _estimate(warehouse, cleaned, _today(now), project.pk if project is not None else None)
        order = DistributionOrder.objects.create(
            # Replaced by the real number once the id is known, in this transaction.
            number=f"tmp-{secrets.token_hex(8)}",
            branch=warehouse.branch,
            warehouse=warehouse,
            recipient=recipient,
            project=project,
            need=need,
            purpose=purpose,
            requested_by=actor,
            requested_at=now,
            value_fen=value,
        )
        order.number = f"FF-{timezone.localdate(now).year}-{order.pk:06d}"
        order.save(update_fields=["number"])
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                item_name=line.item_name,
                specification=line.specification,
                unit=line.unit,
                quantity=line.quantity,
            )
            for line in cleaned
        )
        audit_record(
            actor=actor,
            action="goods.order.request",
            obj=order,
            branch=order.branch,
            after={
                "number": order.number,
                "warehouse": warehouse.code,
                "recipient": recipient.pk,
                "value_fen": value,
                "lines": [[x.item_name, x.specification, x.unit, x.quantity] for x in cleaned],
            },
            meta=meta,
        )
        order.approval_request = request_submit(
            actor=actor, process_type=PROCESS_TYPE, obj=order, meta=meta, now=now
        )
        order.save(update_fields=["approval_request"])
    return order


# --- approval callbacks ------------------------------------------------------------------------


def _engine_move(to: OrderStatus) -> registry.Callback:
    def callback(order: DistributionOrder, request: ApprovalRequest) -> None:
        locked = _locked(order)
        before = locked.status
        _move(locked, to, "engine")
        locked.save(update_fields=["status"])
        audit_record(
            actor=None,
            actor_label="approvals",
            action=f"goods.order.{to}",
            obj=locked,
            branch=locked.branch,
            before={"status": before},
            after={"status": to, "approval_request": request.pk},
        )

    return callback


def _order_url(order: DistributionOrder) -> str:
    return reverse("goods_distribution:order_detail", args=[order.pk])


def register_process_type() -> None:
    """Called from GoodsConfig.ready(); the default flow is seeded by migration 0004."""
    registry.register(
        registry.ProcessType(
            key=PROCESS_TYPE,
            label=gettext_lazy("Goods distribution order"),
            model=DistributionOrder,
            branch_of=lambda o: o.branch,
            amount_of=lambda o: o.value_fen,
            title_of=lambda o: f"{o.number} → {o.recipient.name}",
            on_approved=_engine_move(S.APPROVED),
            on_rejected=_engine_move(S.REJECTED),
            on_withdrawn=_engine_move(S.WITHDRAWN),
            url_of=_order_url,
        )
    )


# --- issue ---------------------------------------------------------------------------------------


def _explicit_plan(
    order: DistributionOrder, picks: list[tuple[int, int, int]], today: date
) -> list[PlannedPick]:
    """Validate picks given as (line id, lot id, quantity); every line exactly covered."""
    lines = {line.pk: line for line in order.lines.all()}
    lot_ids = set()
    for raw in picks:
        try:
            _line_id, lot_id, _quantity = raw
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("Each pick names a line, a lot and a quantity."), code="bad_pick"
            ) from exc
        lot_ids.add(lot_id)
    lots = {
        lot.pk: lot
        for lot in Lot.objects.select_related("intake").filter(pk__in=[i for i in lot_ids if type(i) is int])
    }
    plan: list[PlannedPick] = []
    totals: dict[int, int] = defaultdict(int)
    for line_id, lot_id, quantity in picks:
        line = lines.get(line_id) if type(line_id) is int else None
        if line is None:
            raise ValidationError(_("A pick names a line that is not on this order."), code="bad_pick")
        lot = lots.get(lot_id) if type(lot_id) is int else None
        if lot is None:
            raise ValidationError(_("A pick names an unknown lot."), code="bad_pick")
        if (lot.item_name, lot.specification, lot.unit) != (line.item_name, line.specification, line.unit):
            raise ValidationError(
                _("Lot %(lot)s holds %(lot_item)s, not %(item)s.")
                % {
                    "lot": lot.number,
                    "lot_item": _describe(lot.item_name, lot.specification, lot.unit),
                    "item": _describe(line.item_name, line.specification, line.unit),
                },
                code="wrong_item",
            )
        if lot.intake.project_id is not None and lot.intake.project_id != order.project_id:
            raise ValidationError(
                _("Lot %(lot)s was given for another project and cannot be used for this order.")
                % {"lot": lot.number},
                code="other_project",
            )
        if lot.expires_on is not None and lot.expires_on < today:
            raise ValidationError(
                _("Lot %(lot)s expired on %(date)s and cannot be issued.")
                % {"lot": lot.number, "date": lot.expires_on.isoformat()},
                code="expired",
            )
        if type(quantity) is not int or quantity <= 0:
            raise ValidationError(_("The quantity must be a whole number above zero."), code="bad_quantity")
        totals[line.pk] += quantity
        plan.append(PlannedPick(line=line, lot=lot, quantity=quantity))
    for line in lines.values():
        if totals.get(line.pk, 0) != line.quantity:
            raise ValidationError(
                _("The picks for %(item)s add up to %(picked)s %(unit)s; the order asks for %(wanted)s.")
                % {
                    "item": _describe(line.item_name, line.specification, line.unit),
                    "picked": totals.get(line.pk, 0),
                    "unit": line.unit,
                    "wanted": line.quantity,
                },
                code="picks_do_not_add_up",
            )
    return plan


def items_text(picks: list[PlannedPick] | list[Pick]) -> str:
    """ "书包 × 200 个; 口罩 × 1000 只": what an order handed over, per item, for donors."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for pick in picks:
        line = pick.line
        totals[(line.item_name, line.unit)] += pick.quantity
    return "; ".join(f"{item} × {quantity} {unit}" for (item, unit), quantity in totals.items())


def _notify_representatives(order: DistributionOrder) -> None:
    from rendao.core.services.outbox import message_enqueue

    url = signoff_url(order)
    members = InstitutionMember.objects.filter(
        institution=order.recipient, user__is_active=True
    ).select_related("user")
    for member in members[:20]:
        user = member.user
        channel, recipient = ("email", user.email) if user.email else ("console", user.get_username())
        message_enqueue(
            channel=channel,
            recipient=recipient,
            kind="goods.order.issued",
            subject=_("Goods on their way: %(number)s") % {"number": order.number},
            body=_(
                "The goods of order %(number)s have been issued to %(institution)s. "
                "When they arrive, count them and sign off here: %(url)s"
            )
            % {"number": order.number, "institution": order.recipient.name, "url": url},
            user=user,
            branch=order.branch,
        )


def order_issue(
    *,
    actor: User,
    order: DistributionOrder,
    picks: list[tuple[int, int, int]] | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> DistributionOrder:
    """Issue an approved order: all its picks or none (FEFO unless `picks` are given)."""
    require_perm(actor, PERM, order.branch)
    now = now or timezone.now()
    today = _today(now)
    with transaction.atomic():
        locked = _locked(order)
        _move(locked, S.ISSUED, "staff")
        plan = fefo_plan(order=locked, today=today) if picks is None else _explicit_plan(locked, picks, today)
        extra: dict[str, object] = {
            "order": locked.number,
            "recipient": locked.recipient.name,
            "project": locked.project_id,
        }
        value = 0
        last_index = 0
        made: list[Pick] = []
        for planned in plan:
            move = stock_remove(
                kind=MoveKind.ISSUE,
                lot=planned.lot,
                warehouse=locked.warehouse,
                quantity=planned.quantity,
                actor=actor,
                reference=f"distribution:{locked.number}",
                extra=extra,
                at=now,
            )
            made.append(
                Pick.objects.create(line=planned.line, lot=planned.lot, quantity=planned.quantity, move=move)
            )
            value += planned.lot.unit_value_fen * planned.quantity
            last_index = move.ledger_index
        locked.issued_at = now
        locked.value_fen = value
        locked.save(update_fields=["status", "issued_at", "value_fen"])
        if locked.project is not None:
            from rendao.feedback.models import UseKind
            from rendao.feedback.services import use_report_record

            use_report_record(
                project=locked.project,
                kind=UseKind.GOODS,
                source=f"distribution:{locked.number}",
                amount_fen=value,
                items=items_text(made),
                recipient=locked.recipient.name,
                purpose=locked.purpose,
                ledger_index=last_index,
                occurred_at=now,
            )
        audit_record(
            actor=actor,
            action="goods.order.issue",
            obj=locked,
            branch=locked.branch,
            before={"status": S.APPROVED},
            after={
                "status": S.ISSUED,
                "value_fen": value,
                "picks": [[p.line_id, p.lot.number, p.quantity] for p in made],
                "fefo": picks is None,
            },
            meta=meta,
        )
        # Outbox rows written in this transaction are delivered after commit.
        _notify_representatives(locked)
    order.refresh_from_db()
    return order


# --- sign-off ------------------------------------------------------------------------------------


def signoff_token(order: DistributionOrder) -> str:
    return signing.dumps({"o": order.number, "r": order.recipient_id}, salt=SIGNOFF_SALT, compress=True)


def signoff_url(order: DistributionOrder) -> str:
    """The absolute link the institution's representatives open to sign off the order."""
    path = reverse("goods_distribution:inst_signoff", args=[signoff_token(order)])
    return f"{settings.SITE_URL}{path}"


def order_for_token(token: str) -> DistributionOrder:
    """The order a sign-off token names; ValidationError when forged, expired or stale."""
    max_age = int(settings.GOODS_SIGNOFF_MAX_AGE_DAYS) * 86400
    try:
        data = signing.loads(token, salt=SIGNOFF_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            _("This sign-off link has expired: ask the society for a new one."), code="expired"
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This sign-off link is not valid."), code="bad_token") from exc
    if not isinstance(data, dict):
        raise ValidationError(_("This sign-off link is not valid."), code="bad_token")
    order = (
        DistributionOrder.objects.select_related("recipient", "warehouse", "branch")
        .filter(number=data.get("o"), recipient_id=data.get("r"))
        .first()
    )
    if order is None:
        raise ValidationError(_("This sign-off link is not valid."), code="bad_token")
    return order


def is_representative(user: User, institution: Institution) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return InstitutionMember.objects.filter(institution=institution, user=user).exists()


def signoff_payload(order: DistributionOrder, shortfall: bool, by_staff_upload: bool) -> dict[str, object]:
    """The "recipient_signoff" leaf of a goods order: totals per line, no personal data."""
    lines = []
    for line in order.lines.order_by("id").prefetch_related("picks"):
        picks = list(line.picks.all())
        lines.append(
            {
                "item": line.item_name,
                "specification": line.specification,
                "unit": line.unit,
                "issued": sum(p.quantity for p in picks),
                "received": sum(p.quantity_received or 0 for p in picks),
            }
        )
    return {
        "order": order.number,
        "recipient": order.recipient.name,
        "lines": lines,
        "shortfall": shortfall,
        "by_staff_upload": by_staff_upload,
    }


def _update_need(order: DistributionOrder, now: datetime) -> None:
    if order.need_id is None:
        return
    need = Need.objects.select_for_update().get(pk=order.need_id)
    received = sum(
        p.quantity_received or 0
        for p in Pick.objects.filter(
            line__order=order,
            line__item_name=need.item_name,
            line__specification=need.specification,
            line__unit=need.unit,
        )
    )
    need.quantity_received += received
    fields = ["quantity_received"]
    if need.status == NeedStatus.OPEN and need.quantity_received >= need.quantity:
        need.status = NeedStatus.MET
        need.closed_at = now
        fields += ["status", "closed_at"]
    need.save(update_fields=fields)


def order_signoff(
    *,
    actor: User,
    order: DistributionOrder,
    received: dict[int, int],
    note: str = "",
    form: Attachment | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> OrderSignoff:
    """Record what arrived, per pick id; by a representative, or by staff with the signed form."""
    by_staff_upload = form is not None
    if by_staff_upload:
        require_perm(actor, PERM, order.branch)
        assert form is not None  # noqa: S101 - narrowed for the type checker
        if form.purpose != SIGNOFF_FORM_PURPOSE:
            raise ValidationError({"form": _("Upload the signed sign-off form.")})
    elif not is_representative(actor, order.recipient):
        raise PermissionDenied(
            _("Only a representative of the recipient institution may sign off this order.")
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("The note is too long (at most 500 characters).")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(order)
        if locked.status != S.ISSUED:
            raise ValidationError(_("This order is not waiting for a sign-off."), code="not_issued")
        picks = list(Pick.objects.filter(line__order=locked).select_related("line", "lot").order_by("id"))
        errors: list[str] = []
        for pick in picks:
            value = received.get(pick.pk)
            if type(value) is not int or value < 0:
                errors.append(
                    _("Give the quantity of lot %(lot)s that arrived (a whole number, 0 or more).")
                    % {"lot": pick.lot.number}
                )
            elif value > pick.quantity:
                errors.append(
                    _("%(received)s %(unit)s of lot %(lot)s cannot have arrived: %(issued)s were issued.")
                    % {
                        "received": value,
                        "unit": pick.lot.unit,
                        "lot": pick.lot.number,
                        "issued": pick.quantity,
                    }
                )
        if set(received) - {p.pk for p in picks}:
            errors.append(_("A quantity was given for goods that are not on this order."))
        if errors:
            raise ValidationError({"received": errors})
        shortfall = False
        for pick in picks:
            pick.quantity_received = received[pick.pk]
            shortfall = shortfall or pick.quantity_received < pick.quantity
            pick.save(update_fields=["quantity_received"])
        before = locked.status
        _move(locked, S.SHORTFALL if shortfall else S.SIGNED_OFF, "recipient")
        locked.save(update_fields=["status"])
        entry = ledger_append(
            kind=EntryKind.RECIPIENT_SIGNOFF,
            payload=signoff_payload(locked, shortfall, by_staff_upload),
            occurred_at=now,
        )
        signoff = OrderSignoff.objects.create(
            order=locked,
            signed_by=actor,
            by_staff_upload=by_staff_upload,
            form=form,
            shortfall=shortfall,
            note=note,
            ledger_index=entry.index,
            at=now,
        )
        _update_need(locked, now)
        audit_record(
            actor=actor,
            action="goods.order.signoff",
            obj=locked,
            branch=locked.branch,
            before={"status": before},
            after={
                "status": locked.status,
                "shortfall": shortfall,
                "by_staff_upload": by_staff_upload,
                "received": {str(p.pk): p.quantity_received for p in picks},
            },
            meta=meta,
        )
    order.refresh_from_db()
    return signoff


def order_shortfall_close(
    *,
    actor: User,
    order: DistributionOrder,
    findings: str,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> DistributionOrder:
    """Record the findings of a shortfall's investigation and close the order.

    The missing goods stay issued: goods found later come back as a new intake.
    """
    require_perm(actor, PERM, order.branch)
    findings = (findings or "").strip()
    if not findings or len(findings) > 5000:
        raise ValidationError(
            {"findings": _("Record what the investigation found (at most 5000 characters).")}
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(order)
        _move(locked, S.CLOSED, "staff")
        locked.save(update_fields=["status"])
        signoff = OrderSignoff.objects.select_for_update().get(order=locked)
        signoff.investigation_findings = findings
        signoff.investigated_by = actor
        signoff.investigated_at = now
        signoff.save(update_fields=["investigation_findings", "investigated_by", "investigated_at"])
        audit_record(
            actor=actor,
            action="goods.order.shortfall_close",
            obj=locked,
            branch=locked.branch,
            before={"status": S.SHORTFALL},
            after={"status": S.CLOSED, "findings": findings},
            meta=meta,
        )
    order.refresh_from_db()
    return order


def _may_upload_signoff_form(user: User, branch: Branch | None) -> bool:
    # The signed paper form is filed by the goods staff of the order's branch.
    if branch is None or not user.is_authenticated or not user.is_active:
        return False
    return in_scope(user, PERM, branch)


def register_upload_purpose() -> None:
    """Called from GoodsConfig.ready(): the recipient's signed paper form, scanned or photographed."""
    from rendao.uploads.purposes import JPEG, PDF, PNG, MiB, Purpose, register

    register(
        Purpose(
            code=SIGNOFF_FORM_PURPOSE,
            label=gettext_lazy("Signed goods receipt form"),
            content_types=frozenset({PDF, JPEG, PNG}),
            max_bytes=10 * MiB,
            read_perm=Perm.GOODS_VIEW,
            may_upload=_may_upload_signoff_form,
        )
    )


# --- reads ---------------------------------------------------------------------------------------


def orders_for(user: User) -> QuerySet[DistributionOrder]:
    """Orders of the branches where `user` may see goods, newest first."""
    from rendao.core.scope import scope_filter

    qs = DistributionOrder.objects.select_related("warehouse", "recipient", "branch")
    return scope_filter(qs, user=user, perm=Perm.GOODS_VIEW)


def order_get_for(*, user: User, pk: object) -> DistributionOrder:
    """One order within the user's GOODS_VIEW scope, or Http404 (out of scope looks absent)."""
    from rendao.core.scope import get_in_scope

    qs = DistributionOrder.objects.select_related(
        "warehouse", "recipient", "branch", "project", "need", "approval_request", "requested_by"
    )
    return get_in_scope(qs, user=user, perm=Perm.GOODS_VIEW, pk=pk)


def picks_of(order: DistributionOrder) -> list[Pick]:
    return list(Pick.objects.filter(line__order=order).select_related("line", "lot").order_by("id"))


def order_signoff_upload(
    *,
    actor: User,
    order: DistributionOrder,
    received: dict[int, int],
    upload: Any,
    note: str = "",
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> OrderSignoff:
    """Staff file the recipient's signed paper form with the counted quantities (one transaction)."""
    from rendao.core.audit import RequestMeta as Meta
    from rendao.uploads.services import attachment_create

    require_perm(actor, PERM, order.branch)
    with transaction.atomic():
        form = attachment_create(
            actor=actor, upload=upload, purpose=SIGNOFF_FORM_PURPOSE, branch=order.branch, meta=meta or Meta()
        )
        return order_signoff(
            actor=actor, order=order, received=received, note=note, form=form, meta=meta, now=now
        )

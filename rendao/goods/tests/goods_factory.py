"""Shared builders for the distribution and write-off tests.

Lots are put in stock directly (an Intake and a Lot row, then
`stock_receive`), so these tests depend only on the stock primitives, not on
the intake service; everything after that goes through the real services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

from django.db import transaction
from django.utils import timezone

from rendao.approvals.models import ApprovalRequest, Outcome
from rendao.approvals.services import request_decide
from rendao.conftest import Personas, make_staff
from rendao.core.models import Branch, User
from rendao.goods import distribution
from rendao.goods.models import DistributionOrder, DonorKind, Intake, Lot, Warehouse
from rendao.goods.stock import stock_receive
from rendao.recipients.models import Institution, InstitutionKind, InstitutionMember, Need

_serial = count(1)


def warehouse(branch: Branch, code: str = "") -> Warehouse:
    n = next(_serial)
    return Warehouse.objects.create(branch=branch, code=code or f"WH{n:04d}", name=f"备灾仓库{n}")


def lot(
    wh: Warehouse,
    *,
    receiver: User,
    item: str = "书包",
    specification: str = "",
    unit: str = "个",
    quantity: int = 100,
    expires_on: date | None = None,
    unit_value_fen: int = 5_000,
    received_on: date | None = None,
) -> Lot:
    n = next(_serial)
    with transaction.atomic():
        intake = Intake.objects.create(
            number=f"RK-T-{n:06d}",
            branch=wh.branch,
            warehouse=wh,
            donor_kind=DonorKind.ORGANISATION,
            organisation_name="爱心企业",
            public_name="爱心企业",
            value_fen=unit_value_fen * quantity,
            received_on=received_on or timezone.localdate() - timedelta(days=30),
            received_by=receiver,
        )
        # The lot identity holds on every row written, so a new lot starts with
        # all of it on hand; stock_receive then writes its stock row, move and leaf.
        made = Lot.objects.create(
            intake=intake,
            number=f"LOT-T-{n:06d}",
            item_name=item,
            specification=specification,
            unit=unit,
            expires_on=expires_on,
            unit_value_fen=unit_value_fen,
            quantity_received=quantity,
            quantity_on_hand=quantity,
        )
        stock_receive(lot=made, warehouse=wh, actor=receiver, reference=f"intake:{intake.number}")
    made.refresh_from_db()
    return made


def institution(branch: Branch, name: str = "湖滨小学", *, active: bool = True) -> Institution:
    return Institution.objects.create(branch=branch, name=name, kind=InstitutionKind.SCHOOL, is_active=active)


def representative(inst: Institution, added_by: User, username: str = "rep") -> User:
    user = User.objects.create_user(username)
    InstitutionMember.objects.create(institution=inst, user=user, added_by=added_by)
    return user


def need(inst: Institution, by: User, *, item: str = "书包", unit: str = "个", quantity: int = 50) -> Need:
    return Need.objects.create(
        institution=inst,
        item_name=item,
        unit=unit,
        quantity=quantity,
        deadline=timezone.localdate() + timedelta(days=30),
        purpose="新学期",
        published_by=by,
    )


def keeper(branch: Branch, username: str = "keeper") -> User:
    """A warehouse keeper: requests orders and write-offs, decides nothing."""
    return make_staff(username, branch, "warehouse_keeper")


def lot_identity_holds() -> bool:
    """received = issued + on hand + written off, and on hand = the sum of its stock rows, for every lot."""
    for one in Lot.objects.prefetch_related("stock"):
        if one.quantity_received != one.quantity_issued + one.quantity_on_hand + one.quantity_written_off:
            return False
        if one.quantity_on_hand != sum(s.quantity for s in one.stock.all()):
            return False
    return True


def decide_all(request: ApprovalRequest, *deciders: User) -> None:
    for decider in deciders:
        request.refresh_from_db()
        request_decide(actor=decider, request=request, outcome=Outcome.APPROVE)


@dataclass
class Scene:
    personas: Personas
    wh: Warehouse
    keeper: User
    school: Institution
    rep: User


def scene(personas: Personas) -> Scene:
    """A 思明 warehouse with a keeper, and a 思明 school with one representative."""
    wh = warehouse(personas.tree.siming, "SM01")
    school = institution(personas.tree.siming)
    return Scene(
        personas=personas,
        wh=wh,
        keeper=keeper(personas.tree.siming),
        school=school,
        rep=representative(school, personas.siming_staff),
    )


def approved_order(
    s: Scene, *, lines: list[tuple[str, str, str, int]], **kwargs: object
) -> DistributionOrder:
    order = distribution.order_request(
        actor=s.keeper,
        warehouse=s.wh,
        recipient=s.school,
        purpose="新学期发放",
        lines=lines,
        **kwargs,  # type: ignore[arg-type]
    )
    assert order.approval_request is not None
    decide_all(order.approval_request, s.personas.siming_staff)
    order.refresh_from_db()
    return order

"""Random sequences of receive / transfer / remove keep every lot's identity and no stock below zero."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rendao.conftest import make_staff, make_tree
from rendao.core.models import Role
from rendao.goods.models import Lot, MoveKind, Stock
from rendao.goods.stock import stock_remove, stock_transfer
from rendao.goods.tests.factories import one_lot, warehouse

pytestmark = pytest.mark.django_db

step = st.tuples(
    st.sampled_from(["transfer", "issue", "write_off"]),
    st.integers(0, 2),  # lot
    st.integers(0, 2),  # from warehouse
    st.integers(0, 2),  # to warehouse
    st.integers(-2, 60),  # quantity, sometimes bad, sometimes too much
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=12))
def test_random_moves_keep_the_books(
    django_db_blocker: object, steps: list[tuple[str, int, int, int, int]]
) -> None:
    with transaction.atomic():
        tree = make_tree()
        actor = make_staff("keeper", tree.siming, Role.BRANCH_ADMIN)
        houses = [warehouse(actor, tree.siming) for _ in range(3)]
        lots = [one_lot(actor, houses[i], quantity=40 + i) for i in range(3)]
        for kind, li, src, dst, qty in steps:
            try:
                with transaction.atomic():
                    if kind == "transfer":
                        stock_transfer(
                            lot=lots[li],
                            source=houses[src],
                            target=houses[dst],
                            quantity=qty,
                            actor=actor,
                            reference="p",
                        )
                    else:
                        stock_remove(
                            kind=MoveKind(kind),
                            lot=lots[li],
                            warehouse=houses[src],
                            quantity=qty,
                            actor=actor,
                            reference="p",
                        )
            except ValidationError:
                pass
        for lot in Lot.objects.filter(pk__in=[x.pk for x in lots]):
            rows = list(Stock.objects.filter(lot=lot).values_list("quantity", flat=True))
            assert all(q >= 0 for q in rows)
            assert lot.quantity_on_hand == sum(rows)
            assert (
                lot.quantity_received == lot.quantity_issued + lot.quantity_on_hand + lot.quantity_written_off
            )
        transaction.set_rollback(True)

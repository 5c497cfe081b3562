"""The recipient's sign-off of an issued order: by its representatives, shortfalls investigated."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from rendao.conftest import Personas
from rendao.goods import distribution
from rendao.goods.models import DistributionOrder, OrderSignoff, OrderStatus, Pick
from rendao.goods.tests import goods_factory as f
from rendao.ledger.models import Entry, EntryKind
from rendao.recipients.models import NeedStatus

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def issued(s: f.Scene, **kwargs: object) -> DistributionOrder:
    f.lot(s.wh, receiver=s.keeper, quantity=60)
    f.lot(s.wh, receiver=s.keeper, item="文具", unit="套", quantity=60)
    order = f.approved_order(s, lines=[("书包", "", "个", 50), ("文具", "", "套", 10)], **kwargs)
    distribution.order_issue(actor=s.keeper, order=order)
    order.refresh_from_db()
    return order


def full(order: DistributionOrder) -> dict[int, int]:
    return {p.pk: p.quantity for p in distribution.picks_of(order)}


def test_the_representative_signs_off_in_full(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    signoff = distribution.order_signoff(actor=s.rep, order=order, received=full(order), note="已清点")
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED_OFF
    assert not signoff.shortfall
    assert not signoff.by_staff_upload
    leaf = Entry.objects.get(index=signoff.ledger_index)
    assert leaf.kind == EntryKind.RECIPIENT_SIGNOFF
    data = json.loads(bytes(leaf.data))
    assert data["order"] == order.number
    assert data["shortfall"] is False
    assert data["lines"][0] == {
        "item": "书包",
        "specification": "",
        "unit": "个",
        "issued": 50,
        "received": 50,
    }
    # No personal data: who signed is not in the log.
    assert s.rep.username not in bytes(leaf.data).decode()
    assert all(p.quantity_received == p.quantity for p in Pick.objects.all())


def test_someone_else_cannot_sign_off(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    other_school = f.institution(personas.tree.siming, "另一所学校")
    other_rep = f.representative(other_school, personas.siming_staff, "other-rep")
    for intruder in (personas.public, personas.siming_staff, other_rep):
        with pytest.raises(PermissionDenied):
            distribution.order_signoff(actor=intruder, order=order, received=full(order))
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert not OrderSignoff.objects.exists()
    assert not Pick.objects.filter(quantity_received__isnull=False).exists()


def test_a_shortfall_is_recorded_and_investigated(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    received = full(order)
    first = min(received)
    received[first] -= 3
    signoff = distribution.order_signoff(actor=s.rep, order=order, received=received, note="少了3个")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHORTFALL
    assert signoff.shortfall
    data = json.loads(bytes(Entry.objects.get(index=signoff.ledger_index).data))
    assert data["shortfall"] is True
    assert data["lines"][0]["received"] == 47
    with pytest.raises(ValidationError):
        distribution.order_shortfall_close(actor=s.keeper, order=order, findings="  ")
    with pytest.raises(PermissionDenied):
        distribution.order_shortfall_close(actor=personas.huli_staff, order=order, findings="x")
    distribution.order_shortfall_close(actor=s.keeper, order=order, findings="运输途中丢失3个，已报案")
    order.refresh_from_db()
    signoff.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert signoff.investigated_by_id == s.keeper.pk
    # The missing goods stay issued: nothing comes back to stock silently.
    lot = Pick.objects.get(pk=first).lot
    lot.refresh_from_db()
    assert lot.quantity_issued == 50
    assert f.lot_identity_holds()


def test_more_received_than_issued_or_a_bad_quantity_is_refused(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    received = full(order)
    first = min(received)
    for bad in (received[first] + 1, -1, "50", None):
        attempt = {**received, first: bad}
        with pytest.raises(ValidationError):
            distribution.order_signoff(actor=s.rep, order=order, received=attempt)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        distribution.order_signoff(actor=s.rep, order=order, received={**received, 99_999: 1})
    with pytest.raises(ValidationError):
        distribution.order_signoff(actor=s.rep, order=order, received=received, note="x" * 501)
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert not OrderSignoff.objects.exists()


def test_a_second_sign_off_is_refused(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    distribution.order_signoff(actor=s.rep, order=order, received=full(order))
    with pytest.raises(ValidationError):
        distribution.order_signoff(actor=s.rep, order=order, received=full(order))
    assert OrderSignoff.objects.count() == 1


def test_the_need_is_updated_and_met(personas: Personas) -> None:
    s = f.scene(personas)
    need = f.need(s.school, s.rep, quantity=50)
    order = issued(s, need=need)
    distribution.order_signoff(actor=s.rep, order=order, received=full(order))
    need.refresh_from_db()
    assert need.quantity_received == 50
    assert need.status == NeedStatus.MET
    assert need.closed_at is not None


def test_a_partly_met_need_stays_open(personas: Personas) -> None:
    s = f.scene(personas)
    need = f.need(s.school, s.rep, quantity=80)
    order = issued(s, need=need)
    received = full(order)
    received[min(received)] = 45
    distribution.order_signoff(actor=s.rep, order=order, received=received)
    need.refresh_from_db()
    assert (need.quantity_received, need.status) == (45, NeedStatus.OPEN)


def test_staff_file_the_signed_paper_form(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    upload = SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf")
    with pytest.raises(PermissionDenied):
        distribution.order_signoff_upload(
            actor=personas.huli_staff, order=order, received=full(order), upload=upload
        )
    upload.seek(0)
    signoff = distribution.order_signoff_upload(
        actor=s.keeper, order=order, received=full(order), upload=upload
    )
    assert signoff.by_staff_upload
    assert signoff.form is not None
    assert signoff.form.purpose == "goods_signoff_form"
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED_OFF


def test_a_bad_upload_changes_nothing(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    upload = SimpleUploadedFile("signed.pdf", b"not a pdf at all", content_type="application/pdf")
    with pytest.raises(ValidationError):
        distribution.order_signoff_upload(actor=s.keeper, order=order, received=full(order), upload=upload)
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert not OrderSignoff.objects.exists()


def test_the_token_names_the_order_and_rejects_forgeries(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    token = distribution.signoff_token(order)
    assert distribution.order_for_token(token).pk == order.pk
    for bad in (token[:-2] + "xx", "nonsense", ""):
        with pytest.raises(ValidationError):
            distribution.order_for_token(bad)


def test_signoffs_and_picks_cannot_be_rewritten_or_deleted(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    signoff = distribution.order_signoff(actor=s.rep, order=order, received=full(order))
    pick = Pick.objects.first()
    assert pick is not None
    for statement in (
        lambda: OrderSignoff.objects.filter(pk=signoff.pk).delete(),
        lambda: OrderSignoff.objects.filter(pk=signoff.pk).update(shortfall=True),
        lambda: Pick.objects.filter(pk=pick.pk).update(quantity=1),
        lambda: Pick.objects.filter(pk=pick.pk).update(quantity_received=0),
        lambda: Pick.objects.filter(pk=pick.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()

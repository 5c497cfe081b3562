"""The payee's sign-off through the signed link: representatives only; confirm, dispute, resolve."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.disbursements import services
from rendao.disbursements.models import Disbursement, DisbursementEvent, Signoff, SignoffKind, Status
from rendao.disbursements.tests.factories import (
    approved,
    make_payee,
    make_representative,
    paid,
    record,
    world,
)
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db


def state() -> tuple[Any, ...]:
    return (
        list(Disbursement.objects.order_by("pk").values_list("status", "signed_off_at")),
        Signoff.objects.count(),
        DisbursementEvent.objects.count(),
        Entry.objects.count(),
    )


def link(d: Disbursement) -> str:
    return reverse("disbursements:signoff", kwargs={"token": services.signoff_token(d)})


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_representative_confirms_receipt_through_the_link(personas: Personas) -> None:
    w = world(personas)
    d = paid(w, amount_fen=120_000)
    client = client_for(w.representative)
    page = client.get(link(d))
    assert page.status_code == 200
    assert "1,200.00" in page.content.decode()
    response = client.post(link(d), {"decision": "confirm", "received_fen": "1200.00", "note": "已收到"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == Status.SIGNED_OFF
    assert d.signed_off_at is not None
    s = d.signoffs.get()
    assert (s.kind, s.received_fen, s.signed_by_id, s.by_staff_upload) == (
        SignoffKind.CONFIRMED,
        120_000,
        w.representative.pk,
        False,
    )
    leaf = json.loads(bytes(Entry.objects.get(index=s.ledger_index).data))
    assert leaf["kind"] == "recipient_signoff"
    assert leaf["disbursement"] == d.number
    assert leaf["received_fen"] == 120_000
    assert "hospital_rep" not in json.dumps(leaf)


def test_anyone_but_a_representative_gets_a_clear_403_and_nothing_changes(personas: Personas) -> None:
    w = world(personas)
    d = paid(w)
    other = make_payee(personas.tree.siming, name="另一家医院")
    stranger = make_representative(other, username="other_rep", added_by=personas.siming_staff)
    before = state()
    for user in (stranger, personas.public, personas.finance, personas.siming_staff):
        client = client_for(user)
        for response in (
            client.get(link(d)),
            client.post(link(d), {"decision": "confirm", "received_fen": "1000.00"}),
        ):
            assert response.status_code == 403
            assert "Only the payee&#x27;s representatives can sign this." in response.content.decode()
    assert state() == before
    # Signed out: to the sign-in page, nothing changed.
    assert Client().post(link(d), {"decision": "confirm", "received_fen": "1000.00"}).status_code == 302
    assert state() == before


def test_a_forged_or_foreign_link_is_not_found(personas: Personas) -> None:
    w = world(personas)
    d = paid(w)
    client = client_for(w.representative)
    forged = signing.dumps({"n": d.number, "p": d.payee_id}, salt="another salt")
    assert client.get(reverse("disbursements:signoff", kwargs={"token": forged})).status_code == 404
    assert client.get(reverse("disbursements:signoff", kwargs={"token": "garbage"})).status_code == 404
    wrong_payee = signing.dumps({"n": d.number, "p": d.payee_id + 99}, salt=services.SIGNOFF_SALT)
    assert client.get(reverse("disbursements:signoff", kwargs={"token": wrong_payee})).status_code == 404


def test_an_expired_link_is_refused(personas: Personas, settings: Any) -> None:
    w = world(personas)
    d = paid(w)
    settings.DISBURSEMENT_SIGNOFF_DAYS = -1
    assert client_for(w.representative).get(link(d)).status_code == 404


def test_a_confirmation_of_another_amount_is_refused_and_dispute_is_offered(personas: Personas) -> None:
    w = world(personas)
    d = paid(w, amount_fen=100_000)
    before = state()
    response = client_for(w.representative).post(link(d), {"decision": "confirm", "received_fen": "900.00"})
    assert response.status_code == 400
    assert "dispute the payment instead" in response.content.decode()
    assert state() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"decision": "maybe"},
        {"decision": "confirm"},
        {"decision": "confirm", "received_fen": "abc"},
        {"decision": "confirm", "received_fen": "-1"},
        {"decision": "dispute", "note": "   "},
        {"decision": "dispute", "note": "x" * 501},
    ],
)
def test_bad_answers_are_refused_and_change_nothing(personas: Personas, data: dict[str, str]) -> None:
    w = world(personas)
    d = paid(w)
    before = state()
    assert client_for(w.representative).post(link(d), data).status_code == 400
    assert state() == before


def test_no_answer_before_the_whole_amount_is_paid(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    record(w, d, amount_fen=50_000, reference="HALF")
    with pytest.raises(ValidationError, match="fully paid"):
        services.signoff_confirm(actor=w.representative, disbursement=d, received_fen=50_000)
    page = client_for(w.representative).get(link(d))
    assert page.status_code == 200
    assert "once the whole amount has been paid" in page.content.decode()


def test_dispute_then_resolve_then_confirm(personas: Personas) -> None:
    w = world(personas)
    d = paid(w, amount_fen=100_000)
    response = client_for(w.representative).post(
        link(d), {"decision": "dispute", "received_fen": "900.00", "note": "少到账100元"}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == Status.DISPUTED
    # Only finance managers resolve, with a note.
    with pytest.raises(PermissionDenied):
        services.signoff_resolve(actor=w.representative, disbursement=d, note="ok")
    with pytest.raises(ValidationError):
        services.signoff_resolve(actor=personas.finance, disbursement=d, note="")
    services.signoff_resolve(actor=personas.finance, disbursement=d, note="银行手续费已退回")
    d.refresh_from_db()
    assert d.status == Status.PAID
    services.signoff_confirm(actor=w.representative, disbursement=d, received_fen=100_000)
    d.refresh_from_db()
    assert d.status == Status.SIGNED_OFF
    assert list(d.signoffs.values_list("kind", flat=True)) == [
        SignoffKind.DISPUTED,
        SignoffKind.RESOLVED,
        SignoffKind.CONFIRMED,
    ]
    # A settled disbursement is not disputed again, nor resolved.
    with pytest.raises(ValidationError):
        services.signoff_dispute(actor=w.representative, disbursement=d, note="again")
    with pytest.raises(ValidationError):
        services.signoff_resolve(actor=personas.finance, disbursement=d, note="again")


def test_signoffs_and_events_are_append_only(personas: Personas) -> None:
    from django.db import DatabaseError, transaction

    w = world(personas)
    d = paid(w)
    services.signoff_confirm(actor=w.representative, disbursement=d, received_fen=d.amount_fen)
    for qs in (Signoff.objects.all(), DisbursementEvent.objects.all()):
        with pytest.raises(DatabaseError), transaction.atomic():
            qs.update(note="rewritten")
        with pytest.raises(DatabaseError), transaction.atomic():
            qs.delete()


def test_the_staff_detail_page_shows_the_link_while_awaiting_the_payee(personas: Personas) -> None:
    w = world(personas)
    d = paid(w)
    page = signed_in_client(personas.finance).get(
        reverse("disbursements:detail", kwargs={"number": d.number}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    assert "/inst/disbursements/" in page.content.decode()

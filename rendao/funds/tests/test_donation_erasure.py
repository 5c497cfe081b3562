"""Erasing an account pseudonymises its donations: no name, no number, no link; the money facts stay."""

from __future__ import annotations

import pytest

from rendao.conftest import Personas
from rendao.core.models import AuditEvent, User
from rendao.funds.donations import ANONYMOUS_NAME, DonationRequest, donation_checkout, donation_create
from rendao.funds.models import Donation, FundraisingProject, Receipt
from rendao.funds.payments import ClientInfo
from rendao.funds.receipting import receipt_data
from rendao.funds.tests.factories import open_project, pay
from rendao.ledger.audit_registry import ledger_audit
from rendao.privacy.fields import index_for
from rendao.privacy.models import DataRequest
from rendao.privacy.services import data_request_submit, data_request_transition

pytestmark = pytest.mark.django_db

Status = DataRequest.Status
MOBILE = "+8613800138000"


def give(project: FundraisingProject, user: User | None, name: str, mobile: str = MOBILE) -> Donation:
    donation, _created = donation_create(
        DonationRequest(
            project_id=project.pk, amount_fen=12_300, channel="sandbox", donor_name=name, mobile=mobile
        ),
        user=user,
    )
    donation_checkout(donation, notify_url="http://127.0.0.1/pay/notify/sandbox/", client=ClientInfo())
    pay(donation)
    donation.refresh_from_db()
    return donation


def erase(personas: Personas, user: User) -> None:
    """The person asks for deletion; a city administrator reviews it and carries it out."""
    request = data_request_submit(subject=user, kind="deletion", note="please forget me")
    data_request_transition(actor=personas.city_staff, request=request, to_status=Status.IN_REVIEW)
    data_request_transition(actor=personas.city_staff, request=request, to_status=Status.DONE)


def money_facts(donation: Donation) -> tuple[object, ...]:
    donation.refresh_from_db()
    return (
        donation.amount_fen,
        donation.paid_at,
        donation.created_at,
        donation.project_id,
        donation.status,
        donation.journal_entry_id,
        donation.ledger_index,
        donation.commitment,
        donation.anonymous,
    )


def test_an_erased_donor_loses_name_number_and_link_but_not_the_gift(personas: Personas) -> None:
    project = open_project(personas.tree.city, personas.finance)
    mine = give(project, personas.public, "张三明")
    facts = money_facts(mine)
    assert (mine.public_name, mine.donor_mobile_index) == ("张*明", index_for("mobile", MOBILE))

    erase(personas, personas.public)

    mine.refresh_from_db()
    assert (mine.donor_name, mine.donor_mobile, mine.donor_mobile_index) == ("", "", None)
    assert mine.public_name == ANONYMOUS_NAME
    assert mine.user is None
    assert not Donation.objects.filter(donor_mobile_index=index_for("mobile", MOBILE)).exists()
    assert money_facts(mine) == facts
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (12_300, 1)
    event = AuditEvent.objects.filter(action="account.erase").get()
    assert event.after is not None
    assert event.after["handlers"]["funds.donations"] == 1


def test_the_receipt_then_names_an_anonymous_donor(personas: Personas) -> None:
    project = open_project(personas.tree.city, personas.finance)
    mine = give(project, personas.public, "张三明")
    receipt = Receipt.objects.get(donation=mine)
    assert receipt_data(receipt, donor_copy=False).donor_name == "张三明"

    erase(personas, personas.public)

    receipt.refresh_from_db()
    data = receipt_data(receipt, donor_copy=False)
    assert (data.donor_name, data.anonymous, data.amount_fen) == ("", True, 12_300)


def test_other_peoples_donations_are_untouched(personas: Personas) -> None:
    project = open_project(personas.tree.city, personas.finance)
    give(project, personas.public, "张三明")
    theirs = give(project, personas.volunteer, "李四海", mobile="+8613800138009")
    guest = give(project, None, "王五", mobile="+8613800138008")

    erase(personas, personas.public)

    for donation, name, user in ((theirs, "李四海", personas.volunteer), (guest, "王五", None)):
        donation.refresh_from_db()
        assert donation.donor_name == name
        assert donation.user == user
        assert donation.public_name != ANONYMOUS_NAME


def test_the_transparency_log_still_re_derives_after_the_erasure(personas: Personas) -> None:
    # The log holds no name or number, so pseudonymising changes no logged value.
    project = open_project(personas.tree.city, personas.finance)
    give(project, personas.public, "张三明")
    give(project, personas.public, "张三明")

    erase(personas, personas.public)

    report = ledger_audit()
    assert report.ok, report.mismatches
    assert report.checked == 2

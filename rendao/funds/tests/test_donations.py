"""Online donations: orders, the exactly-once payment path, the sweeper, receipts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.utils import timezone

from rendao.conftest import Personas
from rendao.funds.accounting import accounts_recompute
from rendao.funds.donations import (
    ANONYMOUS_NAME,
    DonationRequest,
    donation_create,
    donations_sweep,
    notification_receive,
)
from rendao.funds.models import (
    Donation,
    FundraisingProject,
    JournalEntry,
    NotificationRejection,
    ProjectStatus,
    Receipt,
)
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.tests.factories import account, donate, open_project, pay, sandbox_notification
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
R = NotificationRejection.Reason


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def leaf_of(donation: Donation) -> dict[str, Any]:
    assert donation.ledger_index is not None
    leaf: dict[str, Any] = json.loads(bytes(Entry.objects.get(index=donation.ledger_index).data))
    return leaf


def state() -> tuple[Any, ...]:
    """Everything a payment could change."""
    return (
        list(Donation.objects.order_by("pk").values_list("status", "channel_txn_id", "refunded_fen")),
        JournalEntry.objects.count(),
        Entry.objects.count(),
        list(FundraisingProject.objects.order_by("pk").values_list("raised_fen", "donation_count")),
        Receipt.objects.count(),
    )


# --- creating orders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount_fen": 0}, "amount_fen", "more than zero"),
        ({"amount_fen": -500}, "amount_fen", "more than zero"),
        ({"amount_fen": 12.5}, "amount_fen", "whole number of fen"),
        ({"amount_fen": "100"}, "amount_fen", "whole number of fen"),
        ({"amount_fen": 99}, "amount_fen", "smallest online donation is 1 yuan"),
        ({"amount_fen": 5_000_001}, "amount_fen", "limited to 50,000 yuan"),
        ({"channel": "paypal"}, "channel", "not available"),
        ({"channel": "wechatpay"}, "channel", "not available"),
        ({"donor_name": ""}, "donor_name", "give anonymously"),
        ({"donor_name": "名" * 51}, "donor_name", "at most 50"),
        ({"mobile": "12345"}, "mobile", "mainland China mobile"),
        ({"attribution": "nosuchpartner"}, "attribution", "does not belong"),
        ({"project_id": 999_999}, "project_id", "no such fundraising project"),
    ],
)
def test_bad_donation_requests_are_refused_with_a_clear_error_and_create_nothing(
    project: FundraisingProject, fields: dict[str, Any], field: str, message: str
) -> None:
    values: dict[str, Any] = {
        "project_id": project.pk,
        "amount_fen": 10_000,
        "channel": "sandbox",
        "donor_name": "张三",
    }
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        donation_create(DonationRequest(**values))
    assert message in " ".join(caught.value.message_dict[field])
    assert Donation.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"status": ProjectStatus.CLOSED},
        {"status": ProjectStatus.FILED},
        {"status": ProjectStatus.DRAFT},
        {"end_date": timezone.localdate() - timedelta(days=1)},
    ],
)
def test_a_project_that_is_not_open_takes_no_donations(
    project: FundraisingProject, change: dict[str, Any]
) -> None:
    FundraisingProject.objects.filter(pk=project.pk).update(**change)
    with pytest.raises(ValidationError, match="not open for donations"):
        donation_create(
            DonationRequest(project_id=project.pk, amount_fen=10_000, channel="sandbox", donor_name="张三")
        )
    assert Donation.objects.count() == 0


def test_a_donor_name_is_kept_encrypted_and_shown_masked_or_as_a_caring_person(
    project: FundraisingProject,
) -> None:
    named = donate(project, donor_name="张三明", mobile="13800138000")
    anonymous = donate(project, anonymous=True, donor_name="李四")
    assert named.public_name == "张*明"
    assert anonymous.public_name == ANONYMOUS_NAME
    assert anonymous.donor_name == ""
    named.refresh_from_db()
    assert named.donor_name == "张三明"
    assert named.donor_mobile == "+8613800138000"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT donor_name, donor_mobile FROM funds_donation WHERE id = %s", [named.pk])
        raw_name, raw_mobile = cursor.fetchone()
    assert "张三明" not in raw_name
    assert "13800138000" not in raw_mobile


def test_the_same_idempotency_key_and_body_give_the_same_order_and_another_body_is_refused(
    project: FundraisingProject,
) -> None:
    req = DonationRequest(project_id=project.pk, amount_fen=10_000, channel="sandbox", donor_name="张三")
    first, created = donation_create(req, idempotency_key="key-1")
    again, created_again = donation_create(req, idempotency_key="key-1")
    assert (created, created_again, again.pk) == (True, False, first.pk)
    other = DonationRequest(project_id=project.pk, amount_fen=20_000, channel="sandbox", donor_name="张三")
    with pytest.raises(ValidationError, match="different donation"):
        donation_create(other, idempotency_key="key-1")
    with pytest.raises(ValidationError, match="1 to 64 printable"):
        donation_create(req, idempotency_key="k" * 65)
    assert Donation.objects.count() == 1


# --- the payment path -------------------------------------------------------------------


def test_a_paid_notification_records_the_gift_once_with_its_journal_entry_ledger_leaf_and_receipt(
    project: FundraisingProject,
) -> None:
    donation = donate(project, amount_fen=12_345)
    assert donation.status == Donation.Status.PAYING
    reply = pay(donation)
    assert (reply.status, reply.body) == (200, b"OK")
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PAID
    assert donation.channel_txn_id
    assert donation.paid_at is not None
    # Journal: clearing debited, the project's restricted fund credited.
    assert donation.journal_entry is not None
    lines = list(donation.journal_entry.lines.values_list("account__code", "debit_fen", "credit_fen"))
    assert sorted(lines) == sorted(
        [(f"CLR-sandbox-{project.branch_id}", 12_345, 0), (f"RF-{project.pk}", 0, 12_345)]
    )
    assert account(f"RF-{project.pk}").balance_fen == 12_345
    # Ledger: the public projection, with the donor as a commitment only.
    leaf = leaf_of(donation)
    assert leaf["kind"] == "donation_received"
    assert (leaf["amount_fen"], leaf["donation"], leaf["donor"]) == (
        12_345,
        donation.out_trade_no,
        donation.commitment,
    )
    assert "张" not in json.dumps(leaf, ensure_ascii=False)
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (12_345, 1)
    receipt = Receipt.objects.get(donation=donation)
    assert receipt.number.startswith(f"350203-{timezone.localdate().year}-")
    assert receipt.amount_fen == 12_345
    result = accounts_recompute()
    assert result.balanced
    assert not result.differences


def test_a_duplicate_notification_is_acknowledged_and_changes_nothing(project: FundraisingProject) -> None:
    donation = donate(project)
    pay(donation)
    before = state()
    reply = pay(donation)  # the channel delivers again, freshly signed
    assert (reply.status, reply.body) == (200, b"OK")
    assert state() == before
    assert NotificationRejection.objects.count() == 0


def test_a_replayed_notification_is_refused_as_a_security_event_and_changes_nothing(
    project: FundraisingProject,
) -> None:
    donation = donate(project)
    headers, body = sandbox_notification(donation)
    assert notification_receive("sandbox", headers, body).status == 200
    before = state()
    reply = notification_receive("sandbox", headers, body)
    assert (reply.status, reply.body) == (400, b"FAIL")
    assert state() == before
    assert NotificationRejection.objects.get().reason == R.REPLAYED


def _signed(body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    return SandboxChannel.signed_headers(raw), raw


def _body(donation: Donation, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "out_trade_no": donation.out_trade_no,
        "txn_id": "SBX-forged-0001",
        "amount_fen": donation.amount_fen,
        "paid_at": timezone.now().isoformat(),
        "payer_ref": "attacker",
        "status": "SUCCESS",
    }
    body.update(changes)
    return body


def test_forged_tampered_and_mismatched_notifications_are_refused_and_change_nothing(
    project: FundraisingProject,
) -> None:
    donation = donate(project)
    other = donate(project)
    pay(other)
    before = state()
    headers, raw = sandbox_notification(donation)
    # Undo the sandbox's record of the payment: only forgeries arrive below.
    cases: list[tuple[dict[str, str], bytes, str]] = []
    cases.append((headers, raw.replace(b'"amount_fen":10000', b'"amount_fen":1000000'), R.FORGED))
    cases.append(({**headers, "X-Sandbox-Signature": "0" * 64}, raw, R.FORGED))
    cases.append((SandboxChannel.signed_headers(raw, key="k" * 43), raw, R.FORGED))
    cases.append((SandboxChannel.signed_headers(raw, at=timezone.now().timestamp() - 301), raw, R.FORGED))
    cases.append(({}, raw, R.MALFORMED))
    cases.append((*_signed({"not": "a notification"}), R.MALFORMED))
    cases.append((*_signed(_body(donation, amount_fen=1)), R.AMOUNT_MISMATCH))
    cases.append((*_signed(_body(donation, out_trade_no="RD20260101NOSUCHORDER00")), R.UNKNOWN_ORDER))
    cases.append((*_signed(_body(other, txn_id="SBX-another")), R.TXN_MISMATCH))
    other.refresh_from_db()
    cases.append((*_signed(_body(donation, txn_id=other.channel_txn_id)), R.TXN_MISMATCH))
    for case_headers, body, reason in cases:
        reply = notification_receive("sandbox", case_headers, body)
        assert reply.status == 400, reason
        assert NotificationRejection.objects.order_by("-pk").first().reason == reason  # type: ignore[union-attr]
    assert notification_receive("paypal", headers, raw).status == 404
    assert state() == before
    assert NotificationRejection.objects.count() == len(cases) + 1


def test_money_arriving_for_an_expired_order_is_recorded_and_flagged_for_refund(
    project: FundraisingProject,
) -> None:
    donation = donate(project, amount_fen=5_000)
    headers, body = sandbox_notification(donation)
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.EXPIRED)
    assert notification_receive("sandbox", headers, body).status == 200
    donation.refresh_from_db()
    assert (donation.status, donation.refund_flagged) == (Donation.Status.PAID, True)
    assert account(f"RP-{project.branch_id}").balance_fen == 5_000
    assert account(f"RF-{project.pk}").balance_fen == 0
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (0, 0)
    assert not Receipt.objects.filter(donation=donation).exists()
    leaf = leaf_of(donation)
    assert leaf["held_for_refund"] is True


def test_an_unrestricted_project_credits_the_branch_general_fund(personas: Personas) -> None:
    general = open_project(personas.tree.siming, personas.finance, restricted=False, title="博爱助困")
    donation = donate(general, amount_fen=2_000)
    pay(donation)
    assert account(f"GF-{general.branch_id}").balance_fen == 2_000


# --- the sweeper ------------------------------------------------------------------------------


def test_the_sweeper_records_payments_nobody_told_us_about_and_expires_the_rest(
    project: FundraisingProject,
) -> None:
    silent = donate(project)
    SandboxChannel().pay(silent.out_trade_no)  # paid at the channel; the notification was lost
    abandoned = donate(project)
    never_checked_out = donate(project, checkout=False)
    later = timezone.now() + timedelta(minutes=31)
    result = donations_sweep(now=later)
    assert (result.queried, result.paid, result.expired) == (3, 1, 2)
    statuses = {d.pk: d.status for d in Donation.objects.all()}
    assert statuses[silent.pk] == Donation.Status.PAID
    assert statuses[abandoned.pk] == Donation.Status.EXPIRED
    assert statuses[never_checked_out.pk] == Donation.Status.EXPIRED
    # Closed at the channel too: paying it now is refused there.
    from rendao.funds.payments import PermanentChannelError

    with pytest.raises(PermanentChannelError):
        SandboxChannel().pay(abandoned.out_trade_no)
    # A second run finds nothing more to do.
    assert donations_sweep(now=later).queried == 0


def test_the_sweeper_leaves_recent_orders_alone(project: FundraisingProject) -> None:
    donate(project)
    assert donations_sweep().queried == 0


# --- receipts -------------------------------------------------------------------------------


def test_receipt_numbers_are_gapless_per_issuing_district_and_a_waived_receipt_takes_none(
    personas: Personas, project: FundraisingProject
) -> None:
    # A project of a street branch issues through its district (思明, 350203).
    street = open_project(personas.tree.street, personas.finance, title="嘉莲街道助老")
    paid = [donate(project), donate(street), donate(project, receipt_wanted=False), donate(project)]
    for d in paid:
        pay(d)
    numbers = list(Receipt.objects.order_by("serial").values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"350203-{year}-{n:06d}" for n in (1, 2, 3)]
    waived = Donation.objects.get(pk=paid[2].pk)
    assert waived.receipt_wanted is False
    assert not Receipt.objects.filter(donation=waived).exists()


def test_the_receipt_verification_page_shows_a_genuine_receipt_and_refuses_a_wrong_check_code(
    project: FundraisingProject,
) -> None:
    donation = donate(project, donor_name="王小明")
    pay(donation)
    receipt = Receipt.objects.get(donation=donation)
    client = Client()
    page = client.get(f"/r/{receipt.number}/{receipt.check_code}/")
    assert page.status_code == 200
    assert "王*明" in page.content.decode()
    assert "王小明" not in page.content.decode()
    assert client.get(f"/r/{receipt.number}/WRONG000/").status_code == 404
    assert client.get("/r/not-a-number/x/").status_code == 404


def test_the_donor_downloads_their_receipt_pdf_from_the_follow_link(project: FundraisingProject) -> None:
    donation = donate(project)
    pay(donation)
    client = Client()
    page = client.get(f"/give/d/{donation.follow_token}/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    pdf = client.get(f"/give/d/{donation.follow_token}/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/give/d/not-a-real-token-but-long-enough/").status_code == 404


# --- the HTTP endpoints ----------------------------------------------------------------------


def test_the_notify_endpoint_answers_the_channel_in_its_own_words(project: FundraisingProject) -> None:
    donation = donate(project)
    headers, body = sandbox_notification(donation)
    client = Client()
    ok = client.post("/pay/notify/sandbox/", body, content_type="application/json", headers=headers)
    assert (ok.status_code, ok.content) == (200, b"OK")
    forged = client.post(
        "/pay/notify/sandbox/", body + b" ", content_type="application/json", headers=headers
    )
    assert (forged.status_code, forged.content) == (400, b"FAIL")
    assert client.get("/pay/notify/sandbox/").status_code == 405
    assert client.post("/pay/notify/paypal/", body, content_type="application/json").status_code == 404
    big = client.post("/pay/notify/sandbox/", b"x" * 70_000, content_type="application/json")
    assert big.status_code == 413
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PAID


def test_the_sandbox_cashier_pays_through_the_notification_path(project: FundraisingProject) -> None:
    donation = donate(project)
    client = Client()
    page = client.get(f"/pay/sandbox/{donation.out_trade_no}/")
    assert page.status_code == 200
    assert donation.out_trade_no in page.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        paid = client.post(f"/pay/sandbox/{donation.out_trade_no}/", {"action": "pay"})
    assert paid.status_code == 302
    assert paid["Location"] == f"/give/d/{donation.follow_token}/"
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PAID
    assert client.get("/pay/sandbox/RDNOSUCHORDER/").status_code == 404

"""Daily reconciliation: each kind of difference, a balanced day, re-import, the log, the pages.

Payments go through the sandbox with its clock set to 10:00 yesterday in
Shanghai (02:00 UTC, so the sandbox's bill day and the China day agree); local
refunds are written directly as succeeded rows (the refund services are tested
on their own).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import AuditEvent, Role
from rendao.funds import payments
from rendao.funds.models import (
    Donation,
    FundraisingProject,
    ReconciliationDifference,
    ReconciliationRun,
    Refund,
    RefundStatus,
)
from rendao.funds.payments import TransientChannelError
from rendao.funds.payments.alipay.adapter import AlipayChannel
from rendao.funds.payments.bills import CHINA
from rendao.funds.payments.sandbox.adapter import BILL_HEADER, SandboxChannel
from rendao.funds.payments.wechatpay.adapter import WeChatPayChannel
from rendao.funds.reconciliation import (
    LocalPayment,
    china_today,
    compare,
    reconcile,
    reconcile_yesterday,
)
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.funds.tests.fakes.bills import Trade, alipay_trade_bill, wechat_trade_bill
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
K = ReconciliationDifference.Kind
DAY = china_today() - timedelta(days=1)
TEN = datetime.combine(DAY, time(10), tzinfo=CHINA)


@pytest.fixture(autouse=True)
def _yesterday_morning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payments, "clock", TEN.timestamp)


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def paid(project: FundraisingProject, amount_fen: int = 10_000) -> Donation:
    donation = donate(project, amount_fen=amount_fen)
    pay(donation)
    donation.refresh_from_db()
    assert donation.paid_at == TEN
    return donation


def bill_rows() -> list[list[str]]:
    """The sandbox's own bill of DAY, as rows (header dropped)."""
    return list(csv.reader(io.StringIO(SandboxChannel().download_bill(DAY).decode())))[1:]


def sandbox_bill(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BILL_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def local_refund(donation: Donation, number: str, amount_fen: int, *, hour: int = 11) -> Refund:
    return Refund.objects.create(
        donation=donation,
        out_refund_no=number,
        amount_fen=amount_fen,
        reason="test",
        status=RefundStatus.SUCCEEDED,
        completed_at=TEN.replace(hour=hour),
    )


def kinds(run: ReconciliationRun) -> list[tuple[str, str, str]]:
    return list(run.differences.order_by("id").values_list("kind", "out_trade_no", "out_refund_no"))


def stored() -> tuple[int, int, int]:
    return ReconciliationRun.objects.count(), ReconciliationDifference.objects.count(), Entry.objects.count()


# --- a balanced day ------------------------------------------------------------------------


def test_a_day_whose_bill_matches_our_records_is_balanced(project: FundraisingProject) -> None:
    first, second = paid(project, 10_000), paid(project, 2_500)
    SandboxChannel().refund(
        out_trade_no=first.out_trade_no, out_refund_no="RF-OK", amount_fen=3_000, total_fen=10_000
    )
    local_refund(first, "RF-OK", 3_000)

    run = reconcile(channel="sandbox", day=DAY)

    assert run.status == ReconciliationRun.Status.BALANCED
    assert kinds(run) == []
    assert (run.bill_count, run.local_count, run.matched_count) == (3, 3, 3)
    assert (run.channel_paid_fen, run.local_paid_fen) == (12_500, 12_500)
    assert (run.channel_refunded_fen, run.local_refunded_fen) == (3_000, 3_000)
    assert run.source == ReconciliationRun.Source.DOWNLOAD
    assert run.created_by is None
    assert second.out_trade_no in {row[0] for row in bill_rows()}


def test_a_payment_of_another_day_is_not_counted(project: FundraisingProject) -> None:
    donation = paid(project)
    Donation.objects.filter(pk=donation.pk).update(paid_at=TEN - timedelta(days=1))
    run = reconcile(channel="sandbox", day=DAY, raw=sandbox_bill([]))
    assert (run.local_count, run.status) == (0, ReconciliationRun.Status.BALANCED)


def test_a_payment_we_dated_a_day_earlier_is_missing_locally_with_our_date(
    project: FundraisingProject,
) -> None:
    donation = paid(project)
    Donation.objects.filter(pk=donation.pk).update(paid_at=TEN - timedelta(days=1))

    run = reconcile(channel="sandbox", day=DAY)

    assert kinds(run) == [(K.MISSING_LOCALLY, donation.out_trade_no, "")]
    earlier = (DAY - timedelta(days=1)).isoformat()
    assert run.differences.get().note.endswith(f"; recorded as paid on {earlier}")


@pytest.mark.parametrize(
    ("channel", "build"), [("wechatpay", wechat_trade_bill), ("alipay", alipay_trade_bill)]
)
def test_an_uploaded_wechat_or_alipay_bill_balances_against_our_records(
    personas: Personas, channel: str, build: Callable[[list[Trade]], bytes]
) -> None:
    with override_settings(PAYMENT_CHANNELS=["sandbox", "wechatpay", "alipay"]):
        project = open_project(personas.tree.siming, personas.finance, channels=(channel,))
        donation = donate(project, amount_fen=12_345, checkout=False)
        # Paid as the channel's notification would record it (that path is tested elsewhere).
        Donation.objects.filter(pk=donation.pk).update(
            status="partly_refunded", paid_at=TEN, channel_txn_id="4200000001", refunded_fen=2_345
        )
        local_refund(donation, "RF-UP-1", 2_345, hour=15)
        naive = TEN.replace(tzinfo=None)
        raw = build(
            [
                Trade(donation.out_trade_no, "4200000001", 12_345, naive),
                Trade(
                    donation.out_trade_no, "4200000001", 2_345, naive.replace(hour=15), "RF-UP-1", "50300001"
                ),
            ]
        )

        run = reconcile(channel=channel, day=DAY, raw=raw, actor=personas.finance)
        wrong = build([Trade(donation.out_trade_no, "4200000001", 12_345, naive - timedelta(days=1))])
        with pytest.raises(ValidationError, match="not the day reconciled"):
            reconcile(channel=channel, day=DAY, raw=wrong, actor=personas.finance)

    assert (run.status, run.matched_count) == (ReconciliationRun.Status.BALANCED, 2)
    assert (run.channel_paid_fen, run.channel_refunded_fen) == (12_345, 2_345)


# --- the five kinds ----------------------------------------------------------------------------


def test_money_the_channel_took_that_we_never_heard_of_is_missing_locally(
    project: FundraisingProject,
) -> None:
    recorded = paid(project)
    # The donor paid, but the notification was lost and the sweeper has not asked yet.
    lost = donate(project, amount_fen=4_200)
    SandboxChannel().pay(lost.out_trade_no)

    run = reconcile(channel="sandbox", day=DAY)

    assert kinds(run) == [(K.MISSING_LOCALLY, lost.out_trade_no, "")]
    difference = run.differences.get()
    assert (difference.channel_amount_fen, difference.local_amount_fen) == (4_200, None)
    assert difference.note.startswith(
        "no donation of this channel recorded as paid on this day; the order is"
    )
    assert run.matched_count == 1
    assert recorded.out_trade_no not in str(kinds(run))


def test_a_payment_we_recorded_that_the_bill_lacks_is_missing_at_the_channel(
    project: FundraisingProject,
) -> None:
    kept, dropped = paid(project), paid(project, 3_300)
    rows = [row for row in bill_rows() if row[0] != dropped.out_trade_no]

    run = reconcile(channel="sandbox", day=DAY, raw=sandbox_bill(rows))

    assert kinds(run) == [(K.MISSING_AT_CHANNEL, dropped.out_trade_no, "")]
    assert run.differences.get().local_amount_fen == 3_300
    assert run.matched_count == 1
    assert kept.out_trade_no != dropped.out_trade_no


def test_a_bill_amount_other_than_ours_is_an_amount_difference(project: FundraisingProject) -> None:
    donation = paid(project, 10_000)
    rows = bill_rows()
    rows[0][3] = "9999"

    run = reconcile(channel="sandbox", day=DAY, raw=sandbox_bill(rows))

    assert kinds(run) == [(K.AMOUNT_DIFFERS, donation.out_trade_no, "")]
    difference = run.differences.get()
    assert (difference.channel_amount_fen, difference.local_amount_fen) == (9_999, 10_000)
    assert (run.channel_paid_fen, run.local_paid_fen) == (9_999, 10_000)


def test_an_order_paid_twice_in_the_bill_is_a_duplicate(project: FundraisingProject) -> None:
    donation = paid(project)
    rows = bill_rows()
    again = [*rows[0][:1], "SBX-SECOND-TXN", *rows[0][2:]]

    run = reconcile(channel="sandbox", day=DAY, raw=sandbox_bill([rows[0], again]))

    assert kinds(run) == [(K.DUPLICATE, donation.out_trade_no, "")]
    assert run.matched_count == 1


def test_one_channel_transaction_on_two_local_donations_is_a_duplicate() -> None:
    # The unique (channel, txn) constraint forbids this in the database; the
    # comparison still says so if data ever came in around it.
    result = compare([], [LocalPayment("A", "TXN", 100), LocalPayment("B", "TXN", 100)], [])
    assert {(d.kind, d.out_trade_no) for d in result.differences} >= {(K.DUPLICATE, "A"), (K.DUPLICATE, "B")}


def test_refunds_that_disagree_by_number_or_amount_are_refund_mismatches(
    project: FundraisingProject,
) -> None:
    donation = paid(project, 10_000)
    channel = SandboxChannel()
    for number, amount in (("RF-AMOUNT", 1_000), ("RF-NOT-HERE", 500)):
        channel.refund(
            out_trade_no=donation.out_trade_no, out_refund_no=number, amount_fen=amount, total_fen=10_000
        )
    local_refund(donation, "RF-AMOUNT", 1_200)
    local_refund(donation, "RF-NOT-THERE", 700)

    run = reconcile(channel="sandbox", day=DAY)

    assert kinds(run) == [
        (K.REFUND_MISMATCH, donation.out_trade_no, "RF-AMOUNT"),
        (K.REFUND_MISMATCH, donation.out_trade_no, "RF-NOT-HERE"),
        (K.REFUND_MISMATCH, donation.out_trade_no, "RF-NOT-THERE"),
    ]
    amounts = list(run.differences.order_by("id").values_list("channel_amount_fen", "local_amount_fen"))
    assert amounts == [(1_000, 1_200), (500, None), (None, 700)]
    assert run.matched_count == 1  # the payment itself


def test_a_refund_not_yet_succeeded_here_is_not_a_local_refund(project: FundraisingProject) -> None:
    donation = paid(project)
    refund = local_refund(donation, "RF-PENDING", 1_000)
    Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.PROCESSING)
    run = reconcile(channel="sandbox", day=DAY)
    assert (run.local_count, run.status) == (1, ReconciliationRun.Status.BALANCED)


# --- storing, idempotency, the log -----------------------------------------------------------


def test_importing_the_same_bill_again_returns_the_stored_run(
    project: FundraisingProject, personas: Personas
) -> None:
    paid(project)
    raw = SandboxChannel().download_bill(DAY)
    first = reconcile(channel="sandbox", day=DAY, raw=raw, actor=personas.finance)
    before = stored(), AuditEvent.objects.count()

    again = reconcile(channel="sandbox", day=DAY, raw=raw, actor=personas.finance)
    downloaded = reconcile(channel="sandbox", day=DAY)

    assert again.pk == first.pk == downloaded.pk
    assert (stored(), AuditEvent.objects.count()) == before
    assert first.created_by == personas.finance
    assert first.source == ReconciliationRun.Source.UPLOAD


def test_the_ledger_leaf_has_counts_and_totals_but_no_order_numbers(project: FundraisingProject) -> None:
    donation = paid(project, 10_000)
    local_refund(donation, "RF-LEAF-1", 1_000)
    lost = donate(project, amount_fen=4_200)
    SandboxChannel().pay(lost.out_trade_no)

    run = reconcile(channel="sandbox", day=DAY)

    assert run.ledger_index is not None
    data = bytes(Entry.objects.get(index=run.ledger_index).data)
    leaf = json.loads(data)
    assert leaf["kind"] == "reconciliation"
    assert (leaf["channel"], leaf["day"], leaf["bill_sha256"]) == (
        "sandbox",
        DAY.isoformat(),
        run.bill_sha256,
    )
    assert (leaf["bill_count"], leaf["local_count"], leaf["matched_count"]) == (2, 2, 1)
    assert (leaf["channel_paid_fen"], leaf["local_paid_fen"], leaf["local_refunded_fen"]) == (
        14_200,
        10_000,
        1_000,
    )
    assert leaf["differences"] == {
        "missing_locally": 1,
        "missing_at_channel": 0,
        "amount_differs": 0,
        "duplicate": 0,
        "refund_mismatch": 1,
    }
    for secret in (donation.out_trade_no, lost.out_trade_no, "RF-LEAF-1", donation.channel_txn_id or "-"):
        assert secret.encode() not in data
    assert AuditEvent.objects.filter(action="funds.reconciliation", object_id=str(run.pk)).exists()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The bill is empty."),
        (b"a,b,c\n", "Line 1 of the bill: The header is not the one this channel's bill starts with."),
        (
            b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,pay,1.234,2025-06-15T02:00:00+00:00,\n",
            "Line 2 of the bill: An amount is not a whole positive number of fen.",
        ),
    ],
)
def test_a_bill_in_the_wrong_format_is_refused_and_nothing_is_stored(
    project: FundraisingProject, raw: bytes, message: str
) -> None:
    paid(project)
    before = stored()
    with pytest.raises(ValidationError) as caught:
        reconcile(channel="sandbox", day=DAY, raw=raw)
    assert caught.value.message_dict == {"file": [message]}
    assert stored() == before


def test_a_bill_of_another_day_is_refused(project: FundraisingProject) -> None:
    paid(project)
    before = stored()
    with pytest.raises(ValidationError) as caught:
        reconcile(channel="sandbox", day=DAY - timedelta(days=1), raw=SandboxChannel().download_bill(DAY))
    assert caught.value.message_dict == {
        "file": [f"Line 2 of the bill is dated {DAY.isoformat()}, not the day reconciled."]
    }
    assert stored() == before


@pytest.mark.parametrize(
    ("channel", "day", "field"),
    [("paypal", DAY, "channel"), ("wechatpay", DAY, "channel"), ("sandbox", DAY + timedelta(days=2), "day")],
)
def test_an_unknown_channel_or_a_future_day_is_refused(channel: str, day: date, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        reconcile(channel=channel, day=day, raw=sandbox_bill([]))
    assert list(caught.value.message_dict) == [field]
    assert stored()[0] == 0


def test_a_channel_that_cannot_give_its_bill_now_says_try_later(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(self: SandboxChannel, day: date) -> bytes:
        raise TransientChannelError("sandbox: busy")

    monkeypatch.setattr(SandboxChannel, "download_bill", down)
    with pytest.raises(ValidationError, match="try again later"):
        reconcile(channel="sandbox", day=DAY)
    assert stored()[0] == 0


def test_only_city_finance_may_reconcile(personas: Personas) -> None:
    district_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    for actor in (district_finance, personas.auditor, personas.city_staff):
        with pytest.raises(PermissionDenied):
            reconcile(channel="sandbox", day=DAY, raw=sandbox_bill([]), actor=actor)
    assert stored()[0] == 0
    assert reconcile(channel="sandbox", day=DAY, raw=sandbox_bill([]), actor=personas.finance).pk


# --- the periodic job and the command --------------------------------------------------------


def test_the_daily_job_reconciles_every_channel_and_logs_failures(
    project: FundraisingProject, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    paid(project)

    def busy(self: object, day: date) -> bytes:
        raise TransientChannelError("wechatpay: busy")

    def broken(self: object, day: date) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(WeChatPayChannel, "download_bill", busy)
    monkeypatch.setattr(AlipayChannel, "download_bill", broken)
    channels = ["wechatpay", "alipay", "sandbox"]
    with override_settings(PAYMENT_CHANNELS=channels), caplog.at_level(logging.WARNING):
        outcome = reconcile_yesterday()

    # A failing channel does not stop the others, and nothing is raised.
    assert outcome == {"wechatpay": "failed", "alipay": "failed", "sandbox": "balanced"}
    assert ReconciliationRun.objects.get().channel == "sandbox"
    assert "reconciliation of wechatpay" in caplog.text
    assert "reconciliation of alipay" in caplog.text


def test_the_daily_job_runs_at_half_past_ten_in_shanghai() -> None:
    from rendao.periodic import reconciliation_daily

    schedule = reconciliation_daily.task_class()
    # huey's crontab reads UTC here (HUEY utc=True): 10:30 in Shanghai is 02:30 UTC.
    assert schedule.validate_datetime(datetime(2026, 5, 2, 2, 30))  # noqa: DTZ001 - huey passes naive UTC
    assert not schedule.validate_datetime(datetime(2026, 5, 2, 10, 30))  # noqa: DTZ001
    assert not schedule.validate_datetime(datetime(2026, 5, 2, 2, 31))  # noqa: DTZ001


def test_the_command_prints_each_difference_and_exits_1(project: FundraisingProject, tmp_path: Path) -> None:
    donation = paid(project, 10_000)
    rows = bill_rows()
    rows[0][3] = "9000"
    bill = tmp_path / "bill.csv"
    bill.write_bytes(sandbox_bill(rows))
    out = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("reconcile", channel="sandbox", date=DAY.isoformat(), file=str(bill), stdout=out)

    assert caught.value.returncode == 1
    text = out.getvalue()
    assert "bill rows 1, local records 1, matched 0" in text
    assert f"amount_differs: order {donation.out_trade_no} channel 9000 fen, local 10000 fen" in text


def test_the_command_on_a_balanced_day_defaults_to_yesterday(project: FundraisingProject) -> None:
    paid(project)
    out = io.StringIO()
    call_command("reconcile", channel="sandbox", stdout=out)
    assert f"sandbox {DAY.isoformat()}: balanced" in out.getvalue()


def test_the_command_refuses_a_wrong_bill_with_its_reason(tmp_path: Path) -> None:
    bill = tmp_path / "bill.csv"
    bill.write_bytes(b"not,a,bill\n")
    with pytest.raises(CommandError, match="Line 1 of the bill"):
        call_command("reconcile", channel="sandbox", date=DAY.isoformat(), file=str(bill))
    assert stored()[0] == 0


# --- the staff pages ---------------------------------------------------------------------------


def _upload(raw: bytes, day: date = DAY, channel: str = "sandbox") -> dict[str, Any]:
    return {"channel": channel, "day": day.isoformat(), "file": SimpleUploadedFile("bill.csv", raw)}


EN = {"Accept-Language": "en"}


def test_finance_uploads_a_bill_and_reads_its_differences(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project)
    client = signed_in_client(personas.finance)

    response = client.post(reverse("funds:reconciliation_upload"), _upload(sandbox_bill([])), headers=EN)

    run = ReconciliationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:reconciliation_detail", kwargs={"pk": run.pk})
    page = client.get(response["Location"], headers=EN).content.decode()
    assert "Recorded here, not in the channel&#x27;s bill (1)" in page
    assert donation.out_trade_no in page
    listing = client.get(reverse("funds:reconciliation_list"), headers=EN).content.decode()
    assert reverse("funds:reconciliation_detail", kwargs={"pk": run.pk}) in listing
    assert "Differences found" in listing


def test_an_upload_in_the_wrong_format_shows_the_error_and_stores_nothing(personas: Personas) -> None:
    client = signed_in_client(personas.finance)
    before = stored()

    response = client.post(
        reverse("funds:reconciliation_upload"), _upload(b"PK\x03\x04", channel="sandbox"), headers=EN
    )

    assert response.status_code == 400
    assert "Line 1 of the bill: The header is not the one this channel&#x27;s bill starts with." in (
        response.content.decode()
    )
    assert stored() == before


def test_an_upload_without_a_file_or_day_shows_field_errors(personas: Personas) -> None:
    response = signed_in_client(personas.finance).post(
        reverse("funds:reconciliation_upload"), {"channel": "sandbox"}, headers=EN
    )
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2
    assert stored()[0] == 0


def test_staff_outside_city_finance_are_refused(personas: Personas) -> None:
    run = reconcile(channel="sandbox", day=DAY, raw=sandbox_bill([]))
    district_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    for user in (district_finance, personas.siming_staff, personas.city_staff):
        client = signed_in_client(user)
        assert client.get(reverse("funds:reconciliation_list")).status_code == 403
        assert client.get(reverse("funds:reconciliation_detail", kwargs={"pk": run.pk})).status_code == 403
        response = client.post(reverse("funds:reconciliation_upload"), _upload(sandbox_bill([])))
        assert response.status_code == 403
    # The auditor reads, but may not upload.
    auditor = signed_in_client(personas.auditor)
    assert auditor.get(reverse("funds:reconciliation_detail", kwargs={"pk": run.pk})).status_code == 200
    page = auditor.get(reverse("funds:reconciliation_list"), headers=EN).content.decode()
    assert "Upload a bill" not in page
    assert auditor.post(reverse("funds:reconciliation_upload"), _upload(b"x")).status_code == 403
    assert stored()[0] == 1


def test_the_list_page_takes_the_same_queries_for_few_or_many_runs(personas: Personas) -> None:
    client = signed_in_client(personas.finance)
    url = reverse("funds:reconciliation_list")

    def queries_with(runs: int) -> int:
        for offset in range(ReconciliationRun.objects.count(), runs):
            reconcile(channel="sandbox", day=DAY - timedelta(days=offset), raw=sandbox_bill([]))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(12)

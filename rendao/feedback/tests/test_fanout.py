from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import OutboxMessage
from rendao.feedback.models import UseKind, UseNotice, UseReport
from rendao.feedback.notify import use_report_notify, use_reports_sweep
from rendao.funds.models import Donation, FundraisingProject

from .conftest import paid, record_use

pytestmark = pytest.mark.django_db


def _messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="use_report").order_by("created_at"))


def test_every_donor_who_asked_is_told_once_even_when_the_task_runs_twice(
    project: FundraisingProject, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    donations = [paid(project, mobile=f"1390000{n:04d}", donor_name=f"捐赠人{n}") for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        report = record_use(project)
    assert UseNotice.objects.filter(report=report).count() == 5
    assert {n.donation_id for n in UseNotice.objects.all()} == {d.pk for d in donations}
    assert len(_messages()) == 5
    report.refresh_from_db()
    assert report.notified_at is not None
    # A retried task, or the sweep, tells nobody twice.
    assert use_report_notify(report.pk) == 0
    assert UseNotice.objects.count() == 5
    assert len(_messages()) == 5


def test_batches_are_walked_by_id(project: FundraisingProject, monkeypatch: pytest.MonkeyPatch) -> None:
    from rendao.feedback import notify

    monkeypatch.setattr(notify, "BATCH", 2)
    for n in range(5):
        paid(project, mobile=f"1390000{n:04d}")
    report = record_use(project)
    assert use_report_notify(report.pk) == 5
    assert UseNotice.objects.count() == 5


def test_donors_who_did_not_ask_and_donors_without_an_address_get_no_message(
    project: FundraisingProject,
) -> None:
    paid(project, mobile="13900001111", feedback_wanted=False)
    paid(project)  # no account, no mobile: told only on the follow page
    report = record_use(project)
    assert use_report_notify(report.pk) == 0
    assert not UseNotice.objects.exists()
    assert _messages() == []


def test_anonymous_donors_with_a_mobile_are_told_by_sms(project: FundraisingProject) -> None:
    donation = paid(project, anonymous=True, donor_name="", mobile="13900002222")
    report = record_use(project)
    use_report_notify(report.pk)
    (message,) = _messages()
    assert message.channel == "sms"
    assert message.recipient == "+8613900002222"
    assert UseNotice.objects.get().donation == donation


def test_signed_in_donors_are_told_through_their_account(
    project: FundraisingProject, personas: Personas
) -> None:
    paid(project, user=personas.public, donor_name="张三明")
    report = record_use(project)
    use_report_notify(report.pk)
    (message,) = _messages()
    assert message.user == personas.public
    assert UseNotice.objects.get().channel == "account"


def test_messages_say_what_was_used_and_carry_no_other_persons_data(project: FundraisingProject) -> None:
    paid(project, donor_name="张三明", mobile="13900003333")
    paid(project, donor_name="李四海", mobile="13900004444")
    report = record_use(project, amount_fen=123_456, recipient="莲花小学", purpose="采购书包")
    use_report_notify(report.pk)
    messages = _messages()
    assert len(messages) == 2
    for message in messages:
        assert "爱心书包" in message.body
        assert "¥1,234.56" in message.body
        assert "莲花小学" in message.body
        assert "采购书包" in message.body
        assert f"#{report.ledger_index}" in message.body
        assert "/give/d/" in message.body
        for personal in ("张三明", "李四海", "张*", "李*"):
            assert personal not in message.body
        other = "13900004444" if message.recipient.endswith("3333") else "13900003333"
        assert other not in message.body
    # Each donor gets their own follow link.
    assert len({m.body for m in messages}) == 2


def test_goods_uses_name_the_items(project: FundraisingProject) -> None:
    paid(project, mobile="13900005555")
    report = record_use(project, kind=UseKind.GOODS, items="书包 × 200 个", amount_fen=800_000)
    use_report_notify(report.pk)
    assert "书包 × 200 个 (¥8,000.00)" in _messages()[0].body


def test_donations_paid_after_the_use_are_not_told(project: FundraisingProject) -> None:
    report = record_use(project)
    paid(project, mobile="13900006666")
    assert use_report_notify(report.pk) == 0


def test_goods_donors_are_told_too(project: FundraisingProject, personas: Personas) -> None:
    from rendao.goods.models import Intake, Warehouse

    warehouse = Warehouse.objects.create(branch=personas.tree.siming, name="思明备灾仓库", code="SM01")
    common: dict[str, Any] = {
        "branch": personas.tree.siming,
        "warehouse": warehouse,
        "project": project,
        "received_on": timezone.localdate() - timedelta(days=1),
        "received_by": personas.siming_staff,
    }
    by_account = Intake.objects.create(
        number="GI-1", donor_kind="person", donor_user=personas.volunteer, public_name="王*", **common
    )
    by_mobile = Intake.objects.create(
        number="GI-2", donor_kind="anonymous", donor_mobile="+8613900007777", public_name="爱心人士", **common
    )
    Intake.objects.create(
        number="GI-3", donor_kind="organisation", organisation_name="某公司", public_name="某公司", **common
    )
    report = record_use(project, kind=UseKind.GOODS, items="口罩 × 10 盒")
    assert use_report_notify(report.pk) == 2
    assert {n.intake_id for n in UseNotice.objects.all()} == {by_account.pk, by_mobile.pk}
    assert use_report_notify(report.pk) == 0


def test_the_sweep_requeues_forgotten_reports(project: FundraisingProject) -> None:
    donation = paid(project, mobile="13900008888")
    report = record_use(project)
    Donation.objects.filter(pk=donation.pk).update(paid_at=timezone.now() - timedelta(minutes=12))
    assert use_reports_sweep() == 0  # too recent: its own task is still on its way
    UseReport.objects.filter(pk=report.pk).update(occurred_at=timezone.now() - timedelta(minutes=11))
    assert use_reports_sweep() == 1  # huey runs immediately in tests
    report.refresh_from_db()
    assert report.notified_at is not None
    assert UseNotice.objects.count() == 1
    assert use_reports_sweep() == 0

"""Delivery of outbox messages: after commit, once per message id, with retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.core.checks import CheckMessage
from django.db import transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from rendao.core import channels
from rendao.core.channels import DeliveryResult, PermanentError, TransientError
from rendao.core.models import OutboxMessage
from rendao.core.outbox_delivery import (
    BACKOFF_CAP,
    CLAIM_TIMEOUT,
    PENDING_GRACE,
    backoff,
    message_deliver,
    outbox_sweep,
)
from rendao.core.services.outbox import message_enqueue

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
MOBILE = "+8613812345678"
OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


class FakeChannel:
    """Records what it is asked to send; fails as scripted, one outcome per call."""

    name = "fake"
    sent: ClassVar[list[tuple[str, str]]] = []
    script: ClassVar[list[Exception | None]] = []

    def send(self, message: OutboxMessage) -> DeliveryResult:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append((str(message.pk), message.body))
        return DeliveryResult(provider_id="fake-1")

    def check_settings(self) -> list[CheckMessage]:
        return []


@pytest.fixture
def fake(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeChannel]]:
    monkeypatch.setitem(channels.ADAPTERS, "fake", f"{__name__}.FakeChannel")
    settings.CHANNEL_ROUTES = ["sms=fake", "email=fake", "console=console"]
    FakeChannel.sent = []
    FakeChannel.script = []
    yield FakeChannel
    FakeChannel.sent = []
    FakeChannel.script = []


def _write(**fields: Any) -> OutboxMessage:
    """A message written directly, without the on-commit task, to drive by hand."""
    defaults: dict[str, Any] = {"channel": "sms", "recipient": MOBILE, "kind": "notice", "body": "hello"}
    return OutboxMessage.objects.create(**{**defaults, **fields})


def _state(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


# --- after commit, exactly once ------------------------------------------------


def test_a_message_is_delivered_after_its_transaction_commits(
    fake: type[FakeChannel], django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = message_enqueue(channel="sms", recipient=MOBILE, kind="notice", body="hello")
        assert fake.sent == []  # nothing leaves before commit
    assert len(callbacks) == 1
    assert fake.sent == [(str(message.pk), "hello")]
    message = _state(message)
    assert message.status == Status.SENT
    assert message.sent_at is not None
    assert message.attempts == 1


def test_a_message_of_a_rolled_back_transaction_is_never_sent(
    fake: type[FakeChannel], django_capture_on_commit_callbacks: OnCommit
) -> None:
    class Boom(Exception):
        pass

    def fails_after_writing() -> None:
        with transaction.atomic():
            message_enqueue(channel="sms", recipient=MOBILE, kind="notice", body="hello")
            raise Boom

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        fails_after_writing()
    assert fake.sent == []
    assert not OutboxMessage.objects.exists()


def test_a_demo_sms_lands_in_the_console_log(
    django_capture_on_commit_callbacks: OnCommit, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="rendao.outbox"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = message_enqueue(
            channel="sms",
            recipient=MOBILE,
            kind="signin_code",
            body="Your code is 424242",
            forget_after_delivery=True,
        )
    assert "Your code is 424242" in caplog.text
    assert _state(message).status == Status.SENT


def test_delivering_the_same_message_twice_sends_it_once(fake: type[FakeChannel]) -> None:
    message = _write()
    assert message_deliver(message_id=message.pk) == Status.SENT
    assert message_deliver(message_id=message.pk) == ""
    assert len(fake.sent) == 1


def test_a_message_claimed_by_another_worker_is_left_alone(fake: type[FakeChannel]) -> None:
    message = _write(status=Status.SENDING, claimed_at=timezone.now(), attempts=1)
    assert message_deliver(message_id=message.pk) == ""
    assert fake.sent == []
    assert _state(message).status == Status.SENDING


def test_a_retry_that_is_not_due_yet_is_not_sent(fake: type[FakeChannel]) -> None:
    message = _write(status=Status.RETRYING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert message_deliver(message_id=message.pk) == ""
    assert fake.sent == []


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "00000000-0000-0000-0000-000000000000"])
def test_a_task_for_a_missing_or_malformed_id_does_nothing(fake: type[FakeChannel], bad_id: str) -> None:
    assert message_deliver(message_id=bad_id) == ""
    assert fake.sent == []


def test_a_message_to_forget_loses_its_body_and_clear_recipient_once_sent(fake: type[FakeChannel]) -> None:
    message = _write(body="Your code is 424242", forget_after_delivery=True, params='{"code": "424242"}')
    message_deliver(message_id=message.pk)
    assert fake.sent == [(str(message.pk), "Your code is 424242")]
    message = _state(message)
    assert message.body == ""
    assert message.params == ""
    # Every delivered message forgets its recipient; only the masked form stays.
    assert (message.recipient, message.recipient_masked) == ("", "138****5678")


def test_an_ordinary_message_keeps_its_body(fake: type[FakeChannel]) -> None:
    message = _write(body="Training on Saturday")
    message_deliver(message_id=message.pk)
    message = _state(message)
    assert message.body == "Training on Saturday"
    assert (message.recipient, message.recipient_masked) == ("", "138****5678")


def test_a_message_to_forget_keeps_its_body_while_it_is_not_delivered(fake: type[FakeChannel]) -> None:
    fake.script = [TransientError("gateway busy")]
    message = _write(body="Your code is 424242", forget_after_delivery=True)
    message_deliver(message_id=message.pk)
    assert _state(message).body == "Your code is 424242"


# --- retries -------------------------------------------------------------------


def test_a_transient_failure_is_retried_with_backoff(fake: type[FakeChannel]) -> None:
    fake.script = [TransientError("gateway busy")]
    message = _write()
    now = timezone.now()
    assert message_deliver(message_id=message.pk, now=now) == Status.RETRYING
    message = _state(message)
    assert message.attempts == 1
    assert message.next_attempt_at == now + timedelta(seconds=30)
    assert message.last_error == "gateway busy"
    assert message.claimed_at is None

    later = message.next_attempt_at
    assert message_deliver(message_id=message.pk, now=later) == Status.SENT
    message = _state(message)
    assert message.attempts == 2
    assert message.last_error == ""
    assert len(fake.sent) == 1


def test_the_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(15) == BACKOFF_CAP
    assert backoff(10_000) == BACKOFF_CAP


def test_a_message_is_given_up_after_the_last_attempt(fake: type[FakeChannel], settings: Settings) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 3
    fake.script = [TransientError("gateway busy")] * 3
    message = _write()
    now = timezone.now()
    outcomes = []
    for _ in range(3):
        outcomes.append(message_deliver(message_id=message.pk, now=now))
        now = _state(message).next_attempt_at
    assert outcomes == [Status.RETRYING, Status.RETRYING, Status.DEAD]
    message = _state(message)
    assert message.status == Status.DEAD
    assert message.attempts == 3
    assert "gave up after 3 attempts" in message.last_error
    assert message_deliver(message_id=message.pk, now=now + timedelta(days=1)) == ""
    assert fake.sent == []


def test_a_permanent_failure_is_given_up_at_once(fake: type[FakeChannel]) -> None:
    fake.script = [PermanentError("number does not exist")]
    message = _write()
    assert message_deliver(message_id=message.pk) == Status.DEAD
    message = _state(message)
    assert message.attempts == 1
    assert message.last_error == "number does not exist"


def test_a_message_to_an_unrouted_channel_is_given_up_with_the_reason(fake: type[FakeChannel]) -> None:
    message = _write(channel="pigeon")
    assert message_deliver(message_id=message.pk) == Status.DEAD
    assert "no route for channel 'pigeon'" in _state(message).last_error


def test_an_unexpected_adapter_error_is_retried_without_its_text(fake: type[FakeChannel]) -> None:
    fake.script = [RuntimeError(f"could not reach {MOBILE}")]
    message = _write()
    assert message_deliver(message_id=message.pk) == Status.RETRYING
    assert _state(message).last_error == "unexpected RuntimeError"


def test_the_logs_never_contain_the_recipient(
    fake: type[FakeChannel], caplog: pytest.LogCaptureFixture
) -> None:
    fake.script = [TransientError("busy"), RuntimeError(f"bad {MOBILE}"), None, PermanentError("gone")]
    with caplog.at_level(logging.DEBUG):
        first = _write()
        now = timezone.now()
        for _ in range(3):
            message_deliver(message_id=first.pk, now=now)
            now = _state(first).next_attempt_at
        message_deliver(message_id=_write().pk)
        message_deliver(message_id=_write(channel="console").pk)
    assert caplog.records
    assert "13812345678" not in caplog.text


# --- the periodic sweep --------------------------------------------------------


def test_the_sweep_sends_due_retries_and_leaves_the_others(fake: type[FakeChannel]) -> None:
    now = timezone.now()
    due = _write(status=Status.RETRYING, next_attempt_at=now - timedelta(seconds=1), attempts=1)
    not_due = _write(status=Status.RETRYING, next_attempt_at=now + timedelta(minutes=1), attempts=1)
    assert outbox_sweep(now=now) == 1
    assert [m for m, _ in fake.sent] == [str(due.pk)]
    assert _state(not_due).status == Status.RETRYING


def test_the_sweep_sends_a_pending_message_whose_task_was_lost(fake: type[FakeChannel]) -> None:
    now = timezone.now()
    lost = _write(next_attempt_at=now - PENDING_GRACE - timedelta(seconds=1))
    fresh = _write(next_attempt_at=now)  # its on-commit task is probably still queued
    assert outbox_sweep(now=now) == 1
    assert _state(lost).status == Status.SENT
    assert _state(fresh).status == Status.PENDING


def test_the_sweep_takes_back_the_claim_of_a_crashed_worker(fake: type[FakeChannel]) -> None:
    now = timezone.now()
    crashed = _write(status=Status.SENDING, claimed_at=now - CLAIM_TIMEOUT - timedelta(seconds=1), attempts=1)
    working = _write(status=Status.SENDING, claimed_at=now - timedelta(seconds=10), attempts=1)
    outbox_sweep(now=now)
    crashed = _state(crashed)
    assert crashed.status == Status.SENT
    assert crashed.attempts == 2
    assert _state(working).status == Status.SENDING
    assert [m for m, _ in fake.sent] == [str(crashed.pk)]


def test_a_message_that_crashes_every_worker_is_given_up(fake: type[FakeChannel], settings: Settings) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 3
    now = timezone.now()
    message = _write(status=Status.SENDING, claimed_at=now - CLAIM_TIMEOUT * 2, attempts=3)
    outbox_sweep(now=now)
    message = _state(message)
    assert message.status == Status.DEAD
    assert fake.sent == []


class OvertakenChannel(FakeChannel):
    """Sends so slowly that the sweep takes the claim back before it returns."""

    def send(self, message: OutboxMessage) -> DeliveryResult:
        # What outbox_sweep does to a claim older than CLAIM_TIMEOUT.
        OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.RETRYING, claimed_at=None, next_attempt_at=timezone.now()
        )
        return super().send(message)


def test_a_late_success_after_the_claim_was_taken_back_prevents_a_second_copy(
    fake: type[FakeChannel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(channels.ADAPTERS, "fake", f"{__name__}.OvertakenChannel")
    message = _write()
    assert message_deliver(message_id=message.pk) == Status.SENT
    # Recorded as SENT although the claim was no longer ours, so the retry the
    # sweep queued finds nothing to do.
    assert _state(message).status == Status.SENT
    assert message_deliver(message_id=message.pk) == ""
    assert len(fake.sent) == 1


def test_a_late_failure_after_the_claim_was_taken_back_changes_nothing(fake: type[FakeChannel]) -> None:
    message = _write()

    def taken_back_then_fail(msg: OutboxMessage) -> DeliveryResult:
        OutboxMessage.objects.filter(pk=msg.pk).update(status=Status.SENT)
        raise TransientError("too late")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FakeChannel, "send", lambda self, msg: taken_back_then_fail(msg))
        assert message_deliver(message_id=message.pk) == ""
    # The other worker's outcome stands.
    assert _state(message).status == Status.SENT


def test_the_sweep_of_an_empty_outbox_queues_nothing(fake: type[FakeChannel]) -> None:
    assert outbox_sweep() == 0

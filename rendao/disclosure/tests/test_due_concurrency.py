"""Two runs of the daily notice job at once still send each notice once (PostgreSQL only)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from rendao.conftest import Personas
from rendao.core.models import OutboxMessage
from rendao.disclosure.due import overdue_notify
from rendao.disclosure.models import DueNotice
from rendao.disclosure.tests.test_due_builders import MAJOR_FEN, TODAY, scene


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_notify_each_branch_once(personas: Personas, settings: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent transactions: the in-memory SQLite test database is one connection")
    settings.DISCLOSURE_MAJOR_TRANSACTION_FEN = MAJOR_FEN
    settings.DISCLOSURE_NOTIFY_DUE_SOON = False
    scene(personas)
    workers = 2
    barrier = threading.Barrier(workers)
    sent: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            sent.append(overdue_notify(TODAY))
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    # The same totals as one run alone (see test_due): 18 messages, 22 notices.
    assert sum(sent) == 18
    assert OutboxMessage.objects.filter(kind="disclosure.overdue").count() == 18
    assert DueNotice.objects.count() == 22

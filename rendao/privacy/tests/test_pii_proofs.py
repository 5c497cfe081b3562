"""Proof (issue #3): after the demo data is loaded and used, no table holds a
plaintext ID number or mobile number; and the detector behind this proof and
the log guard (rendao/conftest.py) does find one when there is one.

The dump is taken at the SQL level, every column of every table, through a raw
cursor: nothing the ORM would decrypt or convert is trusted. Session rows are
also decoded, because a signed session stores its data base64-encoded, where a
plain regular expression would not see a number.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from rendao.conftest import PiiLogGuard
from rendao.core.demo import accounts
from rendao.core.models import OutboxMessage
from rendao.core.outbox_delivery import message_deliver
from rendao.core.services.outbox import message_enqueue
from rendao.privacy.detect import Finding, find_pii

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def _text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def dump_cells() -> Iterator[tuple[str, str]]:
    """(table.column, text) of every non-null cell of every table."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names(cur)):
            cur.execute(f"SELECT * FROM {qn(table)}")  # noqa: S608 - names from the introspection
            columns = [c[0] for c in cur.description]
            for row in cur.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        yield f"{table}.{column}", _text(value)
                if table == "django_session":
                    data = SessionStore().decode(dict(zip(columns, row, strict=True))["session_data"])
                    yield "django_session.session_data (decoded)", json.dumps(data, ensure_ascii=False)


def leaks() -> list[tuple[str, Finding]]:
    return [(where, finding) for where, text in dump_cells() for finding in find_pii(text)]


def _sign_in(client: Client, phone: str) -> None:
    """A whole SMS sign-in through the pages: session, code, outbox row, audit rows."""
    client.post(reverse("core:signin"), {"phone": phone}, headers=EN)
    message = OutboxMessage.objects.filter(kind="signin_code").order_by("-created_at").first()
    assert message is not None
    code = next(w.rstrip(".") for w in message.body.split() if w.rstrip(".").isdigit())
    response = client.post(reverse("core:signin_verify"), {"phone": phone, "code": code}, headers=EN)
    assert response.status_code == 302


@pytest.fixture
def used_demo(db: None) -> None:
    # With some donations: their donors' names and numbers must be sealed too.
    call_command("load_demo", "--donations", "20", stdout=io.StringIO())
    adult = next(p for p in accounts.PUBLIC if p.mobile)
    # One sign-in left half-way (the session holds the number it was sent to)…
    Client().post(reverse("core:signin"), {"phone": adult.mobile}, headers=EN)
    # …one finished, by an account that exists and by a new one.
    _sign_in(Client(), adult.mobile or "")
    _sign_in(Client(), "139 1234 5678")
    # A message delivered and one still waiting for delivery.
    delivered = message_enqueue(channel="console", recipient="+8613800138002", kind="notice", body="hello")
    message_deliver(message_id=delivered.pk)
    message_enqueue(channel="nowhere", recipient="+8613800138003", kind="notice", body="later")


def test_the_demo_data_holds_valid_numbers_so_the_proof_means_something() -> None:
    findings = [f for p in accounts.PUBLIC for f in find_pii(f"{p.id_number} {p.mobile or ''}")]
    kinds = [f.kind for f in findings]
    assert kinds.count("id_number") == len(accounts.PUBLIC)
    assert kinds.count("mobile") == len([p for p in accounts.PUBLIC if p.mobile])


def test_the_whole_database_holds_no_plaintext_id_or_mobile_number(used_demo: None) -> None:
    assert OutboxMessage.objects.exists()
    assert [(where, str(f)) for where, f in leaks()] == []


@pytest.mark.parametrize(
    ("planted", "kind"),
    [
        ("call 13800138001 please", "mobile"),
        ("+86 138 0013 8001", "mobile"),
        ("身份证350203198503120132", "id_number"),
        ("35021320160601062x", "id_number"),
    ],
)
def test_the_database_proof_finds_a_number_planted_in_an_unrelated_column(
    used_demo: None, planted: str, kind: str
) -> None:
    with connection.cursor() as cur:
        cur.execute("UPDATE core_branch SET name = %s WHERE depth = 1", [planted])
    found = leaks()
    assert [(where, f.kind) for where, f in found] == [("core_branch.name", kind)]


def test_the_database_proof_finds_a_number_inside_a_session(used_demo: None) -> None:
    session = SessionStore()
    session["note"] = "13800138001"
    session.save()
    assert [where for where, _ in leaks()] == ["django_session.session_data (decoded)"]


@pytest.mark.parametrize(
    "harmless",
    [
        "13800138000a",  # part of a longer token
        "0x13800138000",
        "138001380001",  # twelve digits
        "12345678901",  # not a mobile range
        "350203199001011236",  # wrong check digit
        "350203199002301234",  # no 30 February
        "9f8e13800138000c2",  # inside a hex digest
    ],
)
def test_the_detector_ignores_digits_that_are_not_a_number(harmless: str) -> None:
    assert find_pii(harmless) == []


def test_the_log_guard_catches_a_logged_number(pii_log_guard: PiiLogGuard) -> None:
    logging.getLogger("rendao.test").warning("sending to %s", "+8613800138000")
    logging.getLogger("some.library").error("id %s", "35020319900101123X")
    hits = list(pii_log_guard.hits)
    # Cleared here, or the guard would (rightly) fail this test.
    pii_log_guard.hits.clear()
    assert hits == ["rendao.test: mobile 138****8000", "some.library: id_number 350203********123X"]


def test_the_log_guard_reads_tracebacks_too(pii_log_guard: PiiLogGuard) -> None:
    try:
        raise ValueError("bad number 13800138000")
    except ValueError:
        logging.getLogger("rendao.test").exception("failed")
    hits = list(pii_log_guard.hits)
    pii_log_guard.hits.clear()
    # One record, whose traceback quotes the number (source line and message).
    assert len(hits) == 1
    assert hits[0].startswith("rendao.test: mobile 138****8000")

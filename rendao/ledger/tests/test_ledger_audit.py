"""`rendao manage ledger_audit` re-derives every leaf from the business tables.

No business app appends to the log yet, so the re-deriver here reads a plain
dict standing in for a business table; the registry and the command are what
is tested, with a real entry kind as the apps will register it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from rendao.cli import main
from rendao.ledger import audit_registry
from rendao.ledger.audit_registry import Gone, ledger_audit, register, registered
from rendao.ledger.models import EntryKind
from rendao.ledger.services import ledger_append

pytestmark = pytest.mark.django_db

# donation number → its public projection, as the business table says today.
SOURCE: dict[str, dict[str, object]] = {}


@pytest.fixture(autouse=True)
def _no_app_rederivers() -> Iterator[None]:
    # The business apps register their re-derivers at start-up (funds: donations
    # and refunds); these tests stand in their own, so the registry starts empty.
    saved = dict(audit_registry._REGISTRY)
    audit_registry._REGISTRY.clear()
    yield
    audit_registry._REGISTRY.clear()
    audit_registry._REGISTRY.update(saved)


def donation_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    row = SOURCE.get(str(logged["donation"]))
    if row is None:
        raise Gone
    return {"donation": logged["donation"], **row}


@pytest.fixture
def logged() -> Iterator[None]:
    """Two donations and a refund logged; the donation kind has a re-deriver."""
    SOURCE.clear()
    SOURCE.update(
        {
            "D-1": {"amount_fen": 5000, "project": "P-1"},
            "D-2": {"amount_fen": 700, "project": "P-2"},
        }
    )
    with transaction.atomic():
        for number, row in SOURCE.items():
            ledger_append(kind=EntryKind.DONATION_RECEIVED, payload={"donation": number, **row})
        ledger_append(kind=EntryKind.REFUND, payload={"donation": "D-2", "amount_fen": 700})
    with registered(EntryKind.DONATION_RECEIVED, donation_now):
        yield
    SOURCE.clear()


def audit_output(*args: str) -> str:
    out = io.StringIO()
    call_command("ledger_audit", *args, stdout=out)
    return out.getvalue()


def test_an_unchanged_business_state_passes_and_kinds_without_a_rederiver_are_not_checked(
    logged: None,
) -> None:
    assert audit_output() == (
        "not checked: 1 refund entries (no re-deriver registered)\n"
        "ledger audit OK: 2 entries re-derived, 0 mismatches, 1 not checked\n"
    )


def test_a_changed_amount_is_reported_by_entry_and_key(logged: None) -> None:
    SOURCE["D-1"]["amount_fen"] = 50000
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 entries re-derived, 1 mismatches, 1 not checked"):
        call_command("ledger_audit", stdout=out)
    assert out.getvalue().splitlines()[0] == (
        "MISMATCH entry 0 (donation_received): business state differs in: amount_fen"
    )


def test_a_deleted_row_and_an_added_field_are_reported(logged: None) -> None:
    del SOURCE["D-1"]
    SOURCE["D-2"]["note"] = "added later"
    report = ledger_audit(batch=1)  # one entry per query: the walk crosses batches
    assert [str(m) for m in report.mismatches] == [
        "entry 0 (donation_received): the business row no longer exists",
        "entry 1 (donation_received): business state differs in: note",
    ]
    assert report.checked == 2
    assert dict(report.not_checked) == {"refund": 1}


def test_the_command_exits_with_status_1_on_a_mismatch(logged: None) -> None:
    SOURCE["D-2"]["project"] = "P-9"
    with pytest.raises(SystemExit) as exit_info:
        main(["manage", "ledger_audit"])
    assert exit_info.value.code == 1


def test_an_empty_log_passes() -> None:
    assert audit_output() == "ledger audit OK: 0 entries re-derived, 0 mismatches, 0 not checked\n"


def test_a_bad_batch_size_is_refused() -> None:
    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("ledger_audit", "--batch", "0")


def test_an_unknown_kind_or_a_second_rederiver_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ledger entry kind"):
        register("donation", donation_now)
    with registered(EntryKind.REFUND, donation_now):
        register(EntryKind.REFUND, donation_now)  # the same one again: harmless
        with pytest.raises(ValueError, match="already registered"):
            register(EntryKind.REFUND, lambda logged: {})

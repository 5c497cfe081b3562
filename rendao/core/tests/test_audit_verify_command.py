"""`rendao manage audit_verify`: its output and exit status."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from rendao.cli import main
from rendao.conftest import Personas
from rendao.core.audit import audit_record
from rendao.core.tests.test_audit_chain import _without_triggers

pytestmark = pytest.mark.django_db


def _record(personas: Personas, n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=personas.city_staff, action="test.thing", object_type="x", object_id=i)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def test_a_clean_chain_is_reported_ok_with_its_length(personas: Personas) -> None:
    _record(personas, 4)
    assert _run() == "audit chain OK: 4 events\n"


def test_an_empty_chain_is_ok() -> None:
    assert _run() == "audit chain OK: 0 events\n"


def test_small_batches_give_the_same_answer(personas: Personas) -> None:
    _record(personas, 5)
    assert _run("--batch", "2") == "audit chain OK: 5 events\n"


def test_an_edited_row_is_named_with_the_reason(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("UPDATE core_auditevent SET action = 'forged' WHERE id = 2")
    with pytest.raises(
        CommandError, match=r"BROKEN at event 2: content changed \(1 events before it verified\)"
    ) as info:
        _run()
    assert info.value.returncode == 1


def test_a_deleted_row_is_named(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("DELETE FROM core_auditevent WHERE id = 2")
    with pytest.raises(CommandError, match="BROKEN at event 2: missing row"):
        _run()


def test_a_row_removed_from_the_end_is_detected(personas: Personas) -> None:
    _record(personas, 3)
    _without_triggers("DELETE FROM core_auditevent WHERE id = 3")
    with pytest.raises(CommandError, match="BROKEN at event 3: rows removed from the end"):
        _run()


def test_the_rendao_command_exits_with_status_1_on_a_broken_chain(
    personas: Personas, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(personas, 2)
    _without_triggers("UPDATE core_auditevent SET action = 'forged' WHERE id = 1")
    with pytest.raises(SystemExit) as info:
        main(["manage", "audit_verify"])
    assert info.value.code == 1
    assert "audit chain BROKEN at event 1: content changed" in capsys.readouterr().err


def test_the_rendao_command_exits_with_status_0_on_a_clean_chain(
    personas: Personas, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(personas, 2)
    assert main(["manage", "audit_verify"]) == 0
    assert capsys.readouterr().out == "audit chain OK: 2 events\n"


@pytest.mark.parametrize("batch", ["0", "-5"])
def test_a_batch_size_below_one_is_refused(batch: str) -> None:
    with pytest.raises(CommandError, match="at least 1"):
        _run("--batch", batch)

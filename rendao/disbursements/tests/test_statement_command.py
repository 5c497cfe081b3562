"""`rendao manage import_statement`: imports, prints the differences, exit status 1 on any."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rendao.conftest import Personas
from rendao.disbursements.models import Statement
from rendao.disbursements.tests.payments_factory import funded_project, paid_disbursement
from rendao.disbursements.tests.statement_files import csv_bytes

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_statement", *args, stdout=out)
    return out.getvalue()


def test_a_balanced_statement_exits_zero_and_again_changes_nothing(
    personas: Personas, tmp_path: Path
) -> None:
    project = funded_project(personas.tree.siming, personas.siming_staff)
    paid_disbursement(project, by=personas.finance, reference="B1", amount_fen=500, paid_on=date(2026, 3, 2))
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["2026-03-02", "B1", "", "5.00", "", ""]]))
    branch = str(personas.tree.siming.pk)
    assert "matched 1, differences 0" in run(str(path), "--branch", branch, "--user", "finance")
    assert "already imported" in run(str(path), "--branch", branch, "--user", "finance")
    assert Statement.objects.count() == 1


def test_differences_exit_one(personas: Personas, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["2026-03-02", "X1", "", "5.00", "", ""]]))
    with pytest.raises(CommandError) as info:
        run(str(path), "--branch", str(personas.tree.siming.pk), "--user", "finance")
    assert info.value.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--branch", "999999", "--user", "finance"], "no active branch"),
        (["--user", "nobody"], "no active user"),
        (["--user", "huli"], "Only finance staff"),
        (["--from", "2026-13-01"], "--from must be YYYY-MM-DD"),
    ],
)
def test_bad_arguments_are_refused(personas: Personas, tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["2026-03-02", "X1", "", "5.00", "", ""]]))
    base = {"--branch": str(personas.tree.siming.pk), "--user": "finance"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=message):
        run(str(path), *[part for pair in base.items() for part in pair])
    assert Statement.objects.count() == 0


def test_a_malformed_file_is_refused_naming_the_line(personas: Personas, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["2026-03-02", "X1", "", "5.001", "", ""]]))
    with pytest.raises(CommandError, match="Line 5 of the statement"):
        run(str(path), "--branch", str(personas.tree.siming.pk), "--user", "finance")
    with pytest.raises(CommandError, match="cannot read"):
        run(str(tmp_path / "missing.csv"), "--branch", str(personas.tree.siming.pk), "--user", "finance")

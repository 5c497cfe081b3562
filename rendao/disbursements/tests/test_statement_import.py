"""Importing a bank statement: matching payments, every kind of difference, idempotence, refusals."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.disbursements.models import DifferenceKind, Payment, Statement, StatementDifference, StatementLine
from rendao.disbursements.statements import statement_difference_resolve, statement_import
from rendao.disbursements.tests.payments_factory import funded_project, paid_disbursement
from rendao.disbursements.tests.statement_files import csv_bytes
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
K = DifferenceKind


def leaves(kind: str) -> list[dict[str, Any]]:
    return [json.loads(bytes(e.data)) for e in Entry.objects.filter(kind=kind).order_by("index")]


def line(day: str, reference: str, amount: str, counterparty: str = "厦门市第一医院") -> list[str]:
    return [day, reference, counterparty, amount, "", ""]


@pytest.fixture
def payments(personas: Personas) -> dict[str, Payment]:
    siming = funded_project(personas.tree.siming, personas.siming_staff)
    street = funded_project(personas.tree.street, personas.siming_staff)
    huli = funded_project(personas.tree.huli, personas.huli_staff)
    by = personas.finance
    return {
        "ok": paid_disbursement(
            siming, by=by, reference="B100", amount_fen=123_456, paid_on=date(2026, 3, 2)
        ),
        "street": paid_disbursement(
            street, by=by, reference="B101", amount_fen=5_000, paid_on=date(2026, 3, 3)
        ),
        "amount": paid_disbursement(
            siming, by=by, reference="B102", amount_fen=10_000, paid_on=date(2026, 3, 4)
        ),
        "late": paid_disbursement(
            siming, by=by, reference="B103", amount_fen=20_000, paid_on=date(2026, 3, 4)
        ),
        "missing": paid_disbursement(
            siming, by=by, reference="B104", amount_fen=7_000, paid_on=date(2026, 3, 5)
        ),
        "outside": paid_disbursement(
            siming, by=by, reference="B105", amount_fen=8_000, paid_on=date(2026, 4, 1)
        ),
        "huli": paid_disbursement(huli, by=by, reference="H200", amount_fen=9_000, paid_on=date(2026, 3, 3)),
    }


ROWS = [
    line("2026-03-02", "B100", "1,234.56"),
    line("2026-03-03", "B101", "50.00"),
    line("2026-03-04", "B102", "100.01"),
    line("2026-03-05", "B103", "200"),
    ["2026-03-05", "", "某企业", "", "9,999.00", ""],
    line("2026-03-06", "X999", "42.00"),
    line("2026-03-06", "H200", "90.00"),
    line("2026-03-07", "B100", "1,234.56"),
]


def import_rows(personas: Personas, rows: list[list[str]] = ROWS, **kwargs: Any) -> Statement:
    with translation.override("en"):
        return statement_import(
            actor=personas.finance,
            branch=kwargs.pop("branch", personas.tree.siming),
            filename="3月对账单.csv",
            content=csv_bytes(rows),
            **kwargs,
        )


class TestMatching:
    def test_it_stores_lines_and_confirms_agreeing_payments(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        statement = import_rows(personas)
        assert (statement.period_start, statement.period_end) == (date(2026, 3, 2), date(2026, 3, 7))
        assert statement.line_count == 7  # the incoming line is skipped
        assert statement.matched_count == 3  # B100, B101 (street, in the subtree), B103 (late day)
        lines = {ln.line_no: ln for ln in statement.lines.all()}
        assert [ln.reference for ln in lines.values()] == [
            "B100",
            "B101",
            "B102",
            "B103",
            "X999",
            "H200",
            "B100",
        ]
        assert lines[5].amount_fen == 123_456
        assert lines[5].payment_id == payments["ok"].pk
        for name in ("ok", "street", "late"):
            payments[name].refresh_from_db()
            assert payments[name].confirmed_by_statement is not None, name
        for name in ("amount", "missing", "outside", "huli"):
            payments[name].refresh_from_db()
            assert payments[name].confirmed_by_statement is None, name

    def test_it_reports_every_kind_of_difference(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        statement = import_rows(personas)
        found = sorted(
            (d.kind, d.reference, d.statement_fen, d.recorded_fen, d.line.line_no if d.line else None)
            for d in statement.differences.select_related("line")
        )
        assert found == sorted(
            [
                (K.AMOUNT_MISMATCH, "B102", 10_001, 10_000, 7),
                (K.DATE_MISMATCH, "B103", 20_000, 20_000, 8),
                (K.UNKNOWN_REFERENCE, "X999", 4_200, None, 10),
                # A payment of another branch is unknown here: references reveal nothing.
                (K.UNKNOWN_REFERENCE, "H200", 9_000, None, 11),
                (K.DUPLICATE_REFERENCE, "B100", 123_456, None, 12),
                (K.NOT_ON_STATEMENT, "B104", None, 7_000, None),
            ]
        )
        assert statement.difference_count == 6

    def test_it_appends_one_payout_leaf_per_confirmed_payment_and_one_reconciliation_leaf(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        statement = import_rows(personas)
        payouts = leaves("payout_confirmed")
        assert {p["reference"] for p in payouts} == {"B100", "B101", "B103"}
        first = next(p for p in payouts if p["reference"] == "B100")
        assert first["amount_fen"] == 123_456
        assert first["booked_on"] == "2026-03-02"
        assert first["disbursement"] == payments["ok"].disbursement.number
        assert set(first) == {
            "v",
            "kind",
            "at",
            "index",
            "disbursement",
            "reference",
            "amount_fen",
            "booked_on",
        }
        (run,) = leaves("reconciliation")
        assert run["index"] == statement.ledger_index
        assert run["source"] == "bank_statement"
        assert run["status"] == "differences"
        assert run["bill_count"] == 7
        assert run["matched_count"] == 3
        assert run["differences"][K.UNKNOWN_REFERENCE] == 2
        assert "X999" not in json.dumps(run)
        assert "医院" not in json.dumps(run)

    def test_it_writes_an_audit_row(self, personas: Personas, payments: dict[str, Payment]) -> None:
        statement = import_rows(personas)
        event = AuditEvent.objects.get(action="disbursements.statement_import")
        assert event.object_id == str(statement.pk)

    def test_a_clean_statement_balances(self, personas: Personas, payments: dict[str, Payment]) -> None:
        statement = import_rows(personas, [line("2026-04-01", "B105", "80.00")])
        assert statement.difference_count == 0
        assert statement.matched_count == 1
        assert leaves("reconciliation")[0]["status"] == "balanced"

    def test_a_later_statement_does_not_confirm_twice(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        first = import_rows(personas, [line("2026-03-02", "B100", "1,234.56")])
        again = import_rows(
            personas, [line("2026-03-02", "B100", "1,234.56"), line("2026-03-02", "Y1", "1.00")]
        )
        assert again.pk != first.pk
        assert again.matched_count == 1
        payments["ok"].refresh_from_db()
        assert payments["ok"].confirmed_by_statement == first.lines.get()
        assert len(leaves("payout_confirmed")) == 1

    def test_a_given_period_reports_payments_missing_from_it(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        statement = import_rows(
            personas,
            [line("2026-03-02", "B100", "1,234.56")],
            period_start=date(2026, 3, 1),
            period_end=date(2026, 4, 30),
        )
        missing = set(
            statement.differences.filter(kind=K.NOT_ON_STATEMENT).values_list("reference", flat=True)
        )
        assert missing == {"B101", "B102", "B103", "B104", "B105"}


class TestIdempotence:
    def test_the_same_file_again_returns_the_statement_and_adds_nothing(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        first = import_rows(personas)
        counts = (
            StatementLine.objects.count(),
            StatementDifference.objects.count(),
            Entry.objects.count(),
            AuditEvent.objects.count(),
        )
        again = import_rows(personas)
        assert again.pk == first.pk
        assert counts == (
            StatementLine.objects.count(),
            StatementDifference.objects.count(),
            Entry.objects.count(),
            AuditEvent.objects.count(),
        )

    def test_the_same_file_for_another_branch_is_refused(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        import_rows(personas)
        with pytest.raises(ValidationError) as info:
            import_rows(personas, branch=personas.tree.huli)
        assert "another branch" in info.value.message_dict["file"][0]


class TestRefused:
    def test_unknown_references_change_no_payment(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        before = list(
            Payment.objects.order_by("pk").values_list("pk", "confirmed_by_statement", "amount_fen")
        )
        statement = import_rows(
            personas, [line("2026-03-02", "NOPE-1", "1.00"), line("2026-03-02", "NOPE-2", "2.00")]
        )
        assert statement.matched_count == 0
        assert set(statement.differences.values_list("kind", flat=True)) == {
            K.UNKNOWN_REFERENCE,
            K.NOT_ON_STATEMENT,
        }
        after = list(Payment.objects.order_by("pk").values_list("pk", "confirmed_by_statement", "amount_fen"))
        assert after == before
        assert leaves("payout_confirmed") == []

    def test_a_malformed_file_stores_nothing(self, personas: Personas, payments: dict[str, Payment]) -> None:
        entries = Entry.objects.count()
        with pytest.raises(ValidationError) as info:
            import_rows(
                personas, [line("2026-03-02", "B100", "1,234.56"), line("2026-13-01", "B101", "50.00")]
            )
        assert info.value.messages == ["Line 6 of the statement: The date is not a date such as 2026-03-01."]
        assert Statement.objects.count() == 0
        assert StatementLine.objects.count() == 0
        assert Entry.objects.count() == entries
        assert Payment.objects.filter(confirmed_by_statement__isnull=False).count() == 0

    def test_a_line_outside_the_given_period_is_refused(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        with pytest.raises(ValidationError) as info:
            import_rows(personas, period_start=date(2026, 3, 1), period_end=date(2026, 3, 5))
        assert info.value.message_dict["file"] == [
            "Line 10 of the statement is dated 2026-03-06, outside the period given."
        ]
        assert Statement.objects.count() == 0

    def test_only_incoming_lines_need_a_period(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        with pytest.raises(ValidationError):
            import_rows(personas, [["2026-03-05", "", "某企业", "", "9,999.00", ""]])
        statement = import_rows(
            personas,
            [["2026-03-05", "", "某企业", "", "9,999.00", ""]],
            period_start=date(2026, 3, 5),
            period_end=date(2026, 3, 5),
        )
        assert statement.line_count == 0
        assert list(statement.differences.values_list("reference", flat=True)) == ["B104"]

    @pytest.mark.parametrize("who", ["huli_staff", "siming_staff", "auditor", "reviewer"])
    def test_out_of_scope_or_without_finance_manage_is_refused(
        self, personas: Personas, payments: dict[str, Payment], who: str
    ) -> None:
        with pytest.raises(PermissionDenied):
            statement_import(
                actor=getattr(personas, who),
                branch=personas.tree.siming,
                filename="x.csv",
                content=csv_bytes(ROWS),
            )
        assert Statement.objects.count() == 0


class TestResolve:
    def test_it_records_who_when_and_why_once(self, personas: Personas, payments: dict[str, Payment]) -> None:
        statement = import_rows(personas)
        difference = statement.differences.get(kind=K.UNKNOWN_REFERENCE, reference="X999")
        with translation.override("en"):
            statement_difference_resolve(
                actor=personas.finance, difference=difference, resolution="  银行手续费  "
            )
            difference.refresh_from_db()
            assert difference.resolved_by == personas.finance
            assert difference.resolution == "银行手续费"
            assert difference.resolved_at is not None
            with pytest.raises(ValidationError) as info:
                statement_difference_resolve(
                    actor=personas.finance, difference=difference, resolution="again"
                )
        assert info.value.message_dict["resolution"] == ["This difference has already been resolved."]
        assert AuditEvent.objects.filter(action="disbursements.statement_difference_resolve").count() == 1

    @pytest.mark.parametrize("text", ["", "   ", "x" * 301])
    def test_bad_resolutions_are_refused(
        self, personas: Personas, payments: dict[str, Payment], text: str
    ) -> None:
        difference = import_rows(personas).differences.first()
        assert difference is not None
        with pytest.raises(ValidationError):
            statement_difference_resolve(actor=personas.finance, difference=difference, resolution=text)
        difference.refresh_from_db()
        assert difference.resolved_at is None

    def test_out_of_scope_is_refused(self, personas: Personas, payments: dict[str, Payment]) -> None:
        difference = import_rows(personas).differences.first()
        assert difference is not None
        with pytest.raises(PermissionDenied):
            statement_difference_resolve(actor=personas.huli_staff, difference=difference, resolution="ok")


class TestAppendOnly:
    def test_statement_lines_cannot_be_edited_or_deleted(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        from django.db import DatabaseError, transaction

        statement = import_rows(personas)
        with pytest.raises(DatabaseError), transaction.atomic():
            StatementLine.objects.filter(statement=statement).update(amount_fen=1)
        with pytest.raises(DatabaseError), transaction.atomic():
            StatementLine.objects.filter(statement=statement, payment__isnull=True).delete()
        assert statement.lines.filter(amount_fen=1).count() == 0


class TestLogAudit:
    def test_payout_leaves_are_re_derived_from_the_rows(
        self, personas: Personas, payments: dict[str, Payment]
    ) -> None:
        from rendao.disbursements.statements import payout_confirmed_now
        from rendao.ledger.audit_registry import Gone

        import_rows(personas)
        for leaf in leaves("payout_confirmed"):
            payload = {k: v for k, v in leaf.items() if k not in {"v", "kind", "at", "index"}}
            assert payout_confirmed_now(leaf) == payload
        with pytest.raises(Gone):
            payout_confirmed_now({"reference": "B104"})  # recorded, never confirmed


class TestLargeStatements:
    def test_references_are_looked_up_in_batches(
        self, personas: Personas, payments: dict[str, Payment], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from rendao.disbursements import statements

        monkeypatch.setattr(statements, "BATCH", 7)
        rows = [line("2026-03-02", f"N{n:05d}", "1.00") for n in range(20)]
        rows += [line("2026-03-02", "B100", "1,234.56"), line("2026-03-05", "B103", "200")]
        statement = import_rows(personas, rows)
        assert statement.line_count == 22
        assert statement.matched_count == 2
        assert statement.differences.filter(kind=K.UNKNOWN_REFERENCE).count() == 20
        assert Payment.objects.filter(confirmed_by_statement__statement=statement).count() == 2

"""The bank statement pages and API: upload, list, detail, resolving; bad input and scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Role, User
from rendao.core.services.tokens import token_create
from rendao.disbursements.models import DifferenceKind, Payment, Statement, StatementDifference
from rendao.disbursements.statements import statement_import
from rendao.disbursements.tests.payments_factory import funded_project, paid_disbursement
from rendao.disbursements.tests.statement_files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
LIST = "/staff/bank-statements/"
UPLOAD = "/staff/bank-statements/upload/"
API = "/api/v1/staff/bank-statements"

GOOD = [
    ["2026-03-02", "B100", "厦门市第一医院", "1,000.00", "", ""],
    ["2026-03-02", "X1", "某公司", "5.00", "", ""],
]
BAD = [["2026-03-02", "B100", "", "1,000.00", "", ""], ["2026-03-02", "B101", "", "1.005", "", ""]]


@pytest.fixture
def payment(personas: Personas) -> Payment:
    project = funded_project(personas.tree.siming, personas.siming_staff)
    return paid_disbursement(
        project, by=personas.finance, reference="B100", amount_fen=100_000, paid_on=date(2026, 3, 2)
    )


def page_client(user: User) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", branch=None, meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def upload(content: bytes, name: str = "statement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def imported(personas: Personas) -> Statement:
    return statement_import(
        actor=personas.finance, branch=personas.tree.siming, filename="s.csv", content=csv_bytes(GOOD)
    )


class TestPages:
    def test_finance_imports_a_statement_and_sees_its_differences(
        self, personas: Personas, payment: Payment
    ) -> None:
        client = page_client(personas.finance)
        response = client.post(UPLOAD, {"branch": personas.tree.siming.pk, "file": upload(csv_bytes(GOOD))})
        statement = Statement.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/staff/bank-statements/{statement.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert "On the statement, no payment recorded with this reference" in page
        assert "X1" in page
        assert payment.disbursement.number in page
        listing = client.get(LIST).content.decode()
        assert f"/staff/bank-statements/{statement.pk}/" in listing

    def test_an_xlsx_statement_is_imported_too(self, personas: Personas, payment: Payment) -> None:
        content = xlsx_bytes([[date(2026, 3, 2), "B100", "厦门市第一医院", 1000, None, 0]])
        response = page_client(personas.finance).post(
            UPLOAD, {"branch": personas.tree.siming.pk, "file": upload(content, "s.xlsx")}
        )
        assert response.status_code == 302
        assert Statement.objects.get().matched_count == 1

    def test_a_malformed_file_is_refused_naming_the_line_and_nothing_is_stored(
        self, personas: Personas, payment: Payment
    ) -> None:
        response = page_client(personas.finance).post(
            UPLOAD, {"branch": personas.tree.siming.pk, "file": upload(csv_bytes(BAD))}
        )
        assert response.status_code == 400
        assert "Line 6 of the statement: The amount has more than two decimals." in response.content.decode()
        assert Statement.objects.count() == 0

    @pytest.mark.parametrize(
        "data",
        [
            {"branch": "", "file": b"x"},
            {"branch": "abc"},
            {"period_start": "2026-03-05", "period_end": "2026-03-01"},
        ],
        ids=["no-branch", "no-file", "period"],
    )
    def test_bad_form_input_is_refused(
        self, personas: Personas, payment: Payment, data: dict[str, object]
    ) -> None:
        form: dict[str, object] = {"branch": personas.tree.siming.pk, "file": upload(csv_bytes(GOOD)), **data}
        if form.get("file") == b"x":
            form["file"] = upload(csv_bytes(GOOD))
        response = page_client(personas.finance).post(UPLOAD, form)
        assert response.status_code == 400
        assert Statement.objects.count() == 0

    def test_a_branch_out_of_scope_is_not_offered_nor_accepted(
        self, personas: Personas, payment: Payment
    ) -> None:
        siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
        client = page_client(siming_finance)
        form = client.get(LIST).content.decode()
        assert f'value="{personas.tree.huli.pk}"' not in form
        response = client.post(UPLOAD, {"branch": personas.tree.huli.pk, "file": upload(csv_bytes(GOOD))})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert Statement.objects.count() == 0

    @pytest.mark.parametrize("who", ["auditor", "siming_staff", "reviewer"])
    def test_staff_without_finance_manage_cannot_upload(
        self, personas: Personas, payment: Payment, who: str
    ) -> None:
        client = page_client(getattr(personas, who))
        response = client.post(UPLOAD, {"branch": personas.tree.siming.pk, "file": upload(csv_bytes(GOOD))})
        assert response.status_code == 403
        assert Statement.objects.count() == 0

    def test_the_auditor_reads_but_gets_no_upload_form(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        client = page_client(personas.auditor)
        assert 'enctype="multipart/form-data"' not in client.get(LIST).content.decode()
        page = client.get(f"{LIST}{statement.pk}/").content.decode()
        assert "Mark as resolved" not in page

    def test_a_statement_out_of_scope_is_not_found(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
        client = page_client(huli_finance)
        assert client.get(f"{LIST}{statement.pk}/").status_code == 404
        assert f"{LIST}{statement.pk}/" not in client.get(LIST).content.decode()

    def test_a_difference_is_resolved_with_a_note(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        difference = statement.differences.get(kind=DifferenceKind.UNKNOWN_REFERENCE)
        url = f"{LIST}{statement.pk}/differences/{difference.pk}/resolve/"
        client = page_client(personas.finance)
        field = "resolution"
        assert client.post(url, {field: "   "}).status_code == 400
        assert client.post(url, {field: "x" * 301}).status_code == 400
        assert client.get(url).status_code == 405
        difference.refresh_from_db()
        assert difference.resolved_at is None
        response = client.post(url, {field: "银行手续费"})
        assert response.status_code == 302
        difference.refresh_from_db()
        assert difference.resolution == "银行手续费"
        again = client.post(url, {field: "again"})
        assert again.status_code == 400
        assert "already been resolved" in again.content.decode()

    def test_others_cannot_resolve(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        difference = statement.differences.get(kind=DifferenceKind.UNKNOWN_REFERENCE)
        url = f"{LIST}{statement.pk}/differences/{difference.pk}/resolve/"
        field = "resolution"
        assert page_client(personas.auditor).post(url, {field: "ok"}).status_code == 403
        assert page_client(personas.huli_staff).post(url, {field: "ok"}).status_code == 404
        other = f"{LIST}{statement.pk}/differences/{difference.pk + 999}/resolve/"
        assert page_client(personas.finance).post(other, {field: "ok"}).status_code == 404
        assert not StatementDifference.objects.filter(resolved_at__isnull=False).exists()

    def test_the_public_and_outsiders_are_kept_out(self, personas: Personas, payment: Payment) -> None:
        assert page_client(personas.public).get(LIST).status_code == 403
        assert Client().get(LIST).status_code == 302


class TestApi:
    def test_an_upload_is_201_then_200_and_listed(self, personas: Personas, payment: Payment) -> None:
        client = token_client(personas.finance)
        data = {"branch_id": personas.tree.siming.pk, "file": upload(csv_bytes(GOOD))}
        first = client.post(API, data)
        assert first.status_code == 201, first.content
        body = first.json()
        assert body["matched_count"] == 1
        assert [d["kind"] for d in body["differences"]] == ["unknown_reference"]
        again = client.post(API, {"branch_id": personas.tree.siming.pk, "file": upload(csv_bytes(GOOD))})
        assert again.status_code == 200
        assert again.json()["id"] == body["id"]
        assert [s["id"] for s in client.get(API).json()["items"]] == [body["id"]]
        assert client.get(f"{API}/{body['id']}").status_code == 200
        lines = client.get(f"{API}/{body['id']}/lines").json()["items"]
        assert [(ln["reference"], ln["disbursement"]) for ln in lines] == [
            ("B100", payment.disbursement.number),
            ("X1", None),
        ]

    @pytest.mark.parametrize(
        ("data", "where"),
        [
            ({"file": csv_bytes(BAD)}, "Line 6 of the statement: The amount has more than two decimals."),
            ({"file": b""}, ""),
            ({"file": None}, "No file was sent."),
            ({"branch_id": 999_999}, "Unknown branch."),
            ({"branch_id": "abc"}, ""),
            ({"period_start": "2026-13-01"}, ""),
            ({"period_start": "2026-03-05", "period_end": "2026-03-01"}, "The period ends before it starts."),
        ],
        ids=["bad-line", "empty", "no-file", "unknown-branch", "branch-not-int", "bad-date", "period"],
    )
    def test_bad_input_is_422_and_stores_nothing(
        self, personas: Personas, payment: Payment, data: dict[str, object], where: str
    ) -> None:
        form: dict[str, object] = {"branch_id": personas.tree.siming.pk, "file": csv_bytes(GOOD)}
        form.update(data)
        content = form.pop("file")
        if isinstance(content, bytes):
            form["file"] = upload(content)
        response = token_client(personas.finance).post(API, form)
        assert response.status_code == 422, response.content
        if where:
            assert where in response.content.decode()
        assert Statement.objects.count() == 0

    def test_out_of_scope_upload_is_403(self, personas: Personas, payment: Payment) -> None:
        siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
        response = token_client(siming_finance).post(
            API, {"branch_id": personas.tree.huli.pk, "file": upload(csv_bytes(GOOD))}
        )
        assert response.status_code == 403
        assert Statement.objects.count() == 0

    def test_reads_are_scoped(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
        client = token_client(huli_finance)
        assert client.get(API).json()["items"] == []
        assert client.get(f"{API}/{statement.pk}").status_code == 404
        assert client.get(f"{API}/{statement.pk}/lines").status_code == 404
        assert Client().get(API).status_code == 401

    def test_a_difference_is_resolved_through_the_api(self, personas: Personas, payment: Payment) -> None:
        statement = imported(personas)
        difference = statement.differences.get()
        url = f"{API}/{statement.pk}/differences/{difference.pk}/resolve"
        client = token_client(personas.finance)
        assert client.post(url, {"resolution": "   "}, content_type="application/json").status_code == 422
        assert client.post(url, {"resolution": "x" * 301}, content_type="application/json").status_code == 422
        huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
        denied = token_client(huli_finance).post(url, {"resolution": "ok"}, content_type="application/json")
        assert denied.status_code == 404
        response = client.post(url, {"resolution": "已核实"}, content_type="application/json")
        assert response.status_code == 200
        assert response.json()["resolution"] == "已核实"


class TestWorkbench:
    def test_unresolved_differences_wait_on_the_finance_workbench(
        self, personas: Personas, payment: Payment
    ) -> None:
        imported(personas)
        page = page_client(personas.finance).get("/staff/").content.decode()
        assert "Unresolved bank statement differences" in page
        assert (
            "Unresolved bank statement differences"
            not in page_client(personas.auditor).get("/staff/").content.decode()
        )


class TestQueries:
    def test_the_list_and_detail_cost_the_same_for_more_rows(
        self, personas: Personas, payment: Payment
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = page_client(personas.finance)
        first = imported(personas)

        def count(url: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        few = (count(LIST), count(f"{LIST}{first.pk}/"))
        for n in range(3):
            statement_import(
                actor=personas.finance,
                branch=personas.tree.siming,
                filename=f"{n}.csv",
                content=csv_bytes([*GOOD, ["2026-03-03", f"Y{n}", "某公司", "1.00", "", ""]]),
            )
        last = Statement.objects.order_by("-pk").first()
        assert last is not None
        assert (count(LIST), count(f"{LIST}{last.pk}/")) == few

"""The 慈善中国 export: the sheets' cells from a small scenario, the staff page, the command."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import Role
from rendao.disbursements.models import Category
from rendao.disbursements.tests import factories as money
from rendao.disclosure.cszg import (
    DISCLOSURES_HEADERS,
    FUNDRAISING_HEADERS,
    USES_HEADERS,
    cszg_csv,
    cszg_period,
    cszg_sheets,
    cszg_xlsx,
    yuan,
)
from rendao.disclosure.figures import Period, project_figures
from rendao.disclosure.models import Disclosure
from rendao.funds.models import FundraisingProject
from rendao.funds.tests.factories import donate, pay

pytestmark = pytest.mark.django_db

URL = "/staff/disclosures/cszg/"


@dataclass
class Scenario:
    project: FundraisingProject
    today: date
    published: Disclosure


def scenario(personas: Personas) -> Scenario:
    """思明's project: 10,000.00 + 500.00 given; 3,000.00 paid to a hospital for
    charitable work and 123.45 as management cost; one published disclosure, one draft."""
    w = money.world(personas, amount_fen=1_000_000)
    pay(donate(w.project, amount_fen=50_000))
    charitable = money.approved(w, amount_fen=300_000)
    money.record(w, charitable, amount_fen=300_000, reference="CSZG-1")
    management = money.approve(
        w, money.request(w, amount_fen=12_345, category=Category.MANAGEMENT, purpose="=办公用品")
    )
    money.record(w, management, amount_fen=12_345, reference="CSZG-2")
    today = timezone.localdate()
    common: dict[str, Any] = {
        "branch": w.project.branch,
        "project": w.project,
        "kind": "progress_quarterly",
        "period_start": today - timedelta(days=5),
        "period_end": today,
        "body": "-",
        "created_by": personas.finance,
    }
    published = Disclosure.objects.create(
        title="第一季度募捐及项目实施情况",
        status=Disclosure.Status.PUBLISHED,
        published_by=personas.finance,
        published_at=timezone.now(),
        ledger_index=7,
        **common,
    )
    Disclosure.objects.create(title="草稿不导出", **common)
    w.project.refresh_from_db()
    return Scenario(project=w.project, today=today, published=published)


def workbook(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def amount(value: Any) -> Decimal:
    # openpyxl reads numbers back as int or float; compare them as exact decimals.
    return Decimal(str(value))


def test_yuan_is_exact_from_integer_fen() -> None:
    assert [str(yuan(f)) for f in (0, 1, 99, 100, 12_345, -5, 10**15 + 1)] == [
        "0.00",
        "0.01",
        "0.99",
        "1.00",
        "123.45",
        "-0.05",
        "10000000000000.01",
    ]


def test_the_workbook_holds_the_platforms_rows_for_the_period(personas: Personas) -> None:
    s = scenario(personas)
    period = Period(start=s.today, end=s.today)
    book = workbook(cszg_xlsx(cszg_sheets(s.project, period)))
    assert book.sheetnames == ["募捐情况", "款物使用明细", "物资接收与发放", "信息公开记录"]

    fundraising = rows(book["募捐情况"])
    assert fundraising[0] == FUNDRAISING_HEADERS
    row = dict(zip(FUNDRAISING_HEADERS, fundraising[1], strict=True))
    assert row["募捐方案备案编号"] == "350200-2026-001"
    assert row["募捐活动名称"] == s.project.title
    assert row["募捐组织"] == "思明区红十字会"
    assert row["本期起始日期"] == datetime.combine(s.today, datetime.min.time())
    assert row["本期捐赠笔数"] == 2
    expected = {
        "募捐目标金额（元）": "100000.00",
        "本期募得款项（元）": "10500.00",
        "本期退款（元）": "0",
        "本期净募得款项（元）": "10500.00",
        "本期慈善活动支出（元）": "3000.00",
        "本期管理费用（元）": "123.45",
        "本期募捐成本（元）": "0",
        "本期支出合计（元）": "3123.45",
        "期末结余（元）": "7376.55",
    }
    for header, value in expected.items():
        assert amount(row[header]) == Decimal(value), header
    assert (
        book["募捐情况"].cell(row=2, column=FUNDRAISING_HEADERS.index("期末结余（元）") + 1).number_format
        == "0.00"
    )

    uses = rows(book["款物使用明细"])
    assert uses[0] == USES_HEADERS
    assert [r[3:7] for r in uses[1:3]] == [
        ["思明区第一医院", "慈善活动支出", "采购急救包", "否"],
        ["思明区第一医院", "管理费用", "=办公用品", "否"],
    ]
    # Text staff typed is kept as text, never turned into a formula.
    assert book["款物使用明细"].cell(row=3, column=6).data_type == "s"
    assert [amount(r[7]) for r in uses[1:]] == [Decimal("3000.00"), Decimal("123.45"), Decimal("3123.45")]
    assert uses[-1][0] == "合计"

    disclosures = rows(book["信息公开记录"])
    assert disclosures[0] == DISCLOSURES_HEADERS
    assert len(disclosures) == 2  # the draft is left out
    assert disclosures[1][1] == "第一季度募捐及项目实施情况"
    assert disclosures[1][4] == 1
    assert disclosures[1][7] == 7


def test_the_uses_total_equals_the_published_figures(personas: Personas) -> None:
    s = scenario(personas)
    period = Period(start=s.today, end=s.today)
    uses = next(sheet for sheet in cszg_sheets(s.project, period) if sheet.key == "uses")
    assert uses.rows[-1][-1] == yuan(project_figures(s.project, period).paid_out_fen)


def test_a_period_before_anything_happened_is_empty(personas: Personas) -> None:
    s = scenario(personas)
    period = Period(start=s.today - timedelta(days=30), end=s.today - timedelta(days=20))
    sheets = {sheet.key: sheet for sheet in cszg_sheets(s.project, period)}
    row = dict(zip(FUNDRAISING_HEADERS, sheets["fundraising"].rows[0], strict=True))
    assert (row["本期捐赠笔数"], row["本期募得款项（元）"], row["本期支出合计（元）"]) == (
        0,
        yuan(0),
        yuan(0),
    )
    assert sheets["uses"].rows == [["合计", None, None, None, None, None, None, yuan(0)]]
    assert sheets["disclosures"].rows == []


def test_the_csv_is_utf8_with_a_bom_and_guards_formulas(personas: Personas) -> None:
    s = scenario(personas)
    uses = next(x for x in cszg_sheets(s.project, Period(start=s.today, end=s.today)) if x.key == "uses")
    data = cszg_csv(uses)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == USES_HEADERS
    assert table[1][1] == s.today.isoformat()
    assert table[1][7] == "3000.00"
    assert table[2][5] == "'=办公用品"
    assert table[3] == ["合计", "", "", "", "", "", "", "3123.45"]


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="The period ends before it starts"):
        cszg_period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValidationError, match="Enter the first day"):
        cszg_period(None, date(2026, 3, 1))


# --- the staff page ------------------------------------------------------------------


def query(project: FundraisingProject | int | str, start: date, end: date, **extra: str) -> dict[str, str]:
    pk = project.pk if isinstance(project, FundraisingProject) else project
    return {"project": str(pk), "start": start.isoformat(), "end": end.isoformat(), **extra}


def test_finance_downloads_the_workbook(personas: Personas) -> None:
    s = scenario(personas)
    client = signed_in_client(personas.finance)
    form = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    assert s.project.title in form.content.decode()
    response = client.get(URL, query(s.project, s.today, s.today))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment;" in response["Content-Disposition"]
    book = workbook(response.content)
    assert amount(book["募捐情况"].cell(row=2, column=9).value) == Decimal("10500.00")


def test_the_csv_of_one_sheet_is_offered_too(personas: Personas) -> None:
    s = scenario(personas)
    client = signed_in_client(personas.auditor)
    response = client.get(URL, query(s.project, s.today, s.today, format="csv", sheet="uses"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "3123.45" in response.content.decode("utf-8-sig")


def test_bad_parameters_are_refused_clearly(personas: Personas) -> None:
    s = scenario(personas)
    client = signed_in_client(personas.finance)
    backwards = client.get(
        URL, query(s.project, s.today, s.today - timedelta(days=1)), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert backwards.status_code == 400
    assert "The period ends before it starts." in backwards.content.decode()
    bad_date = client.get(URL, {"project": str(s.project.pk), "start": "2026-13-01", "end": "x"})
    assert bad_date.status_code == 400
    bad_format = client.get(URL, query(s.project, s.today, s.today, format="pdf"))
    assert bad_format.status_code == 400
    for unknown in (s.project.pk + 1000, "abc", ""):
        assert client.get(URL, query(unknown, s.today, s.today)).status_code == 404


def test_staff_outside_the_projects_branch_get_404(personas: Personas) -> None:
    s = scenario(personas)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    client = signed_in_client(huli_finance)
    assert client.get(URL, query(s.project, s.today, s.today)).status_code == 404
    # The form does not offer it either.
    assert s.project.title not in client.get(URL).content.decode()


def test_people_without_finance_rights_are_refused(personas: Personas) -> None:
    s = scenario(personas)
    for user in (personas.siming_staff, personas.outsider, personas.public):
        client = signed_in_client(user)
        assert client.get(URL, query(s.project, s.today, s.today)).status_code in (403, 404)
        assert client.get(URL).status_code == 403
    anonymous = Client().get(URL, query(s.project, s.today, s.today))
    assert anonymous.status_code == 302
    assert "signin" in anonymous["Location"]


# --- the command -----------------------------------------------------------------------


def test_the_command_writes_the_workbook_and_a_csv(personas: Personas, tmp_path: Path) -> None:
    s = scenario(personas)
    out = tmp_path / "cszg.xlsx"
    day = s.today.isoformat()
    call_command("cszg_export", "--project", str(s.project.pk), "--from", day, "--to", day, "--out", str(out))
    assert workbook(out.read_bytes())["募捐情况"].cell(row=2, column=1).value == "350200-2026-001"
    csv_out = tmp_path / "uses.csv"
    call_command(
        "cszg_export", "--project", str(s.project.pk), "--from", day, "--to", day, "--out", str(csv_out),
        "--sheet", "uses",
    )  # fmt: skip
    assert "3123.45" in csv_out.read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "999999", "--from", "2026-01-01", "--to", "2026-01-31"], "no fundraising project"),
        (["--from", "2026-02-01", "--to", "2026-01-31"], "The period ends before it starts."),
        (["--from", "2026-02-30", "--to", "2026-03-31"], "not a date"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--out", "x.pdf"], "--out must end in .xlsx or .csv"),
    ],
)
def test_the_command_refuses_bad_parameters(
    personas: Personas, tmp_path: Path, args: list[str], message: str
) -> None:
    project = money.funded_project(personas.tree.siming, personas.finance)
    defaults = {"--project": str(project.pk), "--out": str(tmp_path / "out.xlsx")}
    for flag, value in defaults.items():
        if flag not in args:
            args = [*args, flag, value]
    with pytest.raises(CommandError, match=message):
        call_command("cszg_export", *args)
    assert not (tmp_path / "out.xlsx").exists()


def test_finance_staff_of_a_branch_without_projects_see_an_empty_form(personas: Personas) -> None:
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    response = signed_in_client(huli_finance).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "No fundraising project in your branches yet." in response.content.decode()

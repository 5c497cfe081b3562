"""The export for the national charity information platform (慈善中国, cszg.mca.gov.cn).

Staff file each public fundraising activity and its project on the platform
(MCA Order 81: one entry per activity and per project; Charity Law Art 79:
fundraising and implementation at least every three months, a full account
within three months of the end). The platform's forms ask for the fundraising
(募捐情况: filing number, name, period, amounts raised, number of gifts, costs),
the use of the money and goods (项目实施情况 / 款物使用: each payment with its
date, payee, category and amount) and what was published. This module lays
those out as sheets whose Chinese column headers are those of the forms, so a
sheet can be pasted or uploaded without retyping; docs/cszg-export.md lists them.

Every amount comes from rendao.disclosure.figures (the same numbers as the
public pages) or from the payment rows those figures sum, and is written as
yuan with two decimals made from integer fen by divmod: never a float.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.permissions import Perm
from rendao.core.scope import path_q, scope_paths
from rendao.disclosure.figures import Figures, Period, project_figures

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User
    from rendao.funds.models import FundraisingProject

Cell = str | int | Decimal | date | None

# The platform's words for our categories and disclosure kinds (stable, not UI text).
CATEGORY_ZH = {"charitable": "慈善活动支出", "management": "管理费用", "fundraising": "募捐成本"}
KIND_ZH = {
    "progress_quarterly": "募捐及项目实施情况（季度）",
    "final_account": "募捐及项目实施情况（结束后全面公开）",
    "emergency_receipts": "重大突发事件募捐接收情况",
    "related_party": "关联交易",
    "major_transaction": "重大交易及资金往来",
    "annual_report": "年度工作报告",
    "annual_audit": "年度审计报告",
    "progress_update": "项目进展",
    "other": "其他",
}

FUNDRAISING_HEADERS = [
    "募捐方案备案编号",
    "募捐活动名称",
    "募捐组织",
    "募捐起始日期",
    "募捐终止日期",
    "本期起始日期",
    "本期截止日期",
    "募捐目标金额（元）",
    "本期募得款项（元）",
    "本期捐赠笔数",
    "本期退款（元）",
    "本期净募得款项（元）",
    "本期接收物资估值（元）",
    "本期慈善活动支出（元）",
    "本期管理费用（元）",
    "本期募捐成本（元）",
    "本期支出合计（元）",
    "期末结余（元）",
]
USES_HEADERS = [
    "序号",
    "支付日期",
    "支出编号",
    "受助单位",
    "支出类别",
    "用途",
    "是否关联方",
    "金额（元）",
]
GOODS_HEADERS = ["类型", "物资名称", "数量", "估值（元）"]
DISCLOSURES_HEADERS = [
    "公开事项",
    "标题",
    "所属期间起",
    "所属期间止",
    "版本",
    "发布日期",
    "更正说明",
    "透明日志序号",
]
TOTAL_LABEL = "合计"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    key: str  # stable, for ?sheet= and --sheet
    title: str  # the sheet's (Chinese) name in the workbook
    headers: list[str]
    rows: list[list[Cell]]


SHEET_KEYS = ("fundraising", "uses", "goods", "disclosures")


def yuan(fen: int) -> Decimal:
    """Exact yuan with two decimals from integer fen (divmod, no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return Decimal(f"{sign}{whole}.{cents:02d}")


def cszg_period(start: date | None, end: date | None) -> Period:
    """The period asked for, or ValidationError naming what is wrong."""
    errors: dict[str, str] = {}
    if start is None:
        errors["start"] = _("Enter the first day of the period (YYYY-MM-DD).")
    if end is None:
        errors["end"] = _("Enter the last day of the period (YYYY-MM-DD).")
    if start is None or end is None:
        raise ValidationError(errors)
    if end < start:
        raise ValidationError({"end": _("The period ends before it starts.")})
    return Period(start=start, end=end)


def _category_amount(figures: Figures, key: str) -> int:
    return sum(line.amount_fen for line in figures.by_category if line.key == key)


def _fundraising(project: FundraisingProject, period: Period, figures: Figures) -> Sheet:
    row: list[Cell] = [
        project.filing_number,
        project.title,
        project.branch.name,
        project.start_date,
        project.end_date,
        period.start,
        period.end,
        yuan(project.target_fen),
        yuan(figures.received_fen),
        figures.received_count,
        yuan(figures.refunded_fen),
        yuan(figures.net_income_fen),
        yuan(figures.goods_received_value_fen),
        yuan(_category_amount(figures, "charitable")),
        yuan(_category_amount(figures, "management")),
        yuan(_category_amount(figures, "fundraising")),
        yuan(figures.paid_out_fen),
        yuan(figures.balance_fen),
    ]
    return Sheet(key="fundraising", title="募捐情况", headers=FUNDRAISING_HEADERS, rows=[row])


def _uses(project: FundraisingProject, period: Period) -> Sheet:
    from rendao.disbursements.models import Payment

    payments = (
        Payment.objects.filter(
            disbursement__project=project, paid_on__gte=period.start, paid_on__lte=period.end
        )
        .select_related("disbursement", "disbursement__payee")
        .order_by("paid_on", "pk")
    )
    rows: list[list[Cell]] = []
    total = 0
    for n, payment in enumerate(payments, start=1):
        d = payment.disbursement
        total += payment.amount_fen
        rows.append(
            [
                n,
                payment.paid_on,
                d.number,
                d.payee.name,
                CATEGORY_ZH.get(d.category, d.category),
                d.purpose,
                "是" if d.related_party else "否",
                yuan(payment.amount_fen),
            ]
        )
    rows.append([TOTAL_LABEL, None, None, None, None, None, None, yuan(total)])
    return Sheet(key="uses", title="款物使用明细", headers=USES_HEADERS, rows=rows)


def _goods(figures: Figures) -> Sheet:
    rows: list[list[Cell]] = []
    for kind, lines in (("接收", figures.goods_received), ("发放", figures.goods_issued)):
        rows.extend([kind, line.key, line.count, yuan(line.amount_fen)] for line in lines)
    return Sheet(key="goods", title="物资接收与发放", headers=GOODS_HEADERS, rows=rows)


def _disclosures(project: FundraisingProject, period: Period) -> Sheet:
    from rendao.disclosure.models import Disclosure

    published = Disclosure.objects.filter(
        project=project,
        status=Disclosure.Status.PUBLISHED,
        period_start__lte=period.end,
        period_end__gte=period.start,
    ).order_by("period_start", "series", "version")
    rows: list[list[Cell]] = []
    for d in published:
        published_on = timezone.localdate(d.published_at) if d.published_at else None
        rows.append(
            [
                KIND_ZH.get(d.kind, d.kind),
                d.title,
                d.period_start,
                d.period_end,
                d.version,
                published_on,
                d.correction_note,
                d.ledger_index,
            ]
        )
    return Sheet(key="disclosures", title="信息公开记录", headers=DISCLOSURES_HEADERS, rows=rows)


def cszg_projects_for(user: User | AnonymousUser) -> QuerySet[FundraisingProject]:
    """The projects whose export `user` may take: finance read or manage rights over their branch."""
    from rendao.funds.models import FundraisingProject

    paths = sorted(set(scope_paths(user, Perm.FINANCE_VIEW)) | set(scope_paths(user, Perm.FINANCE_MANAGE)))
    qs = FundraisingProject.objects.select_related("branch")
    if not paths:
        return qs.none()
    return qs.filter(path_q(paths)).order_by("-start_date", "-pk")


def cszg_project_get(*, user: User | AnonymousUser, pk: object) -> FundraisingProject:
    """One project in `user`'s scope, or Http404: out of scope looks like absent."""
    try:
        return cszg_projects_for(user).get(pk=int(str(pk)))
    except (ObjectDoesNotExist, ValueError) as exc:
        raise Http404(_("Not found.")) from exc


def cszg_sheets(project: FundraisingProject, period: Period) -> list[Sheet]:
    """The platform's rows for `project` over `period` (access is checked by the caller)."""
    figures = project_figures(project, period)
    return [
        _fundraising(project, period, figures),
        _uses(project, period),
        _goods(figures),
        _disclosures(project, period),
    ]


def cszg_xlsx(sheets: list[Sheet]) -> bytes:
    """One workbook, one worksheet per sheet; amounts as numbers with two decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    for sheet in sheets:
        ws = workbook.create_sheet(title=sheet.title)
        ws.append(sheet.headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(row)
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    # Text typed by staff (a purpose, a payee) is never run as a formula.
                    cell.data_type = "s"
                elif isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
                elif isinstance(cell.value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
        for index, header in enumerate(sheet.headers, start=1):
            letter = ws.cell(row=1, column=index).column_letter
            ws.column_dimensions[letter].width = max(12, 2 * len(header) + 2)
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Excel would run it as a formula (CSV injection); the quote makes it text.
        return "'" + value
    return str(value)


def cszg_csv(sheet: Sheet) -> bytes:
    """One sheet as CSV, UTF-8 with a BOM so that Excel reads the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow([_csv_text(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def cszg_filename(project: FundraisingProject, period: Period, extension: str) -> str:
    return f"cszg-project{project.pk}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{extension}"

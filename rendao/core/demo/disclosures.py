"""Demo data of issue 7: disclosures in every state the calendar and the public pages show.

Across the demo's projects (rendao/funds/demo.py), drafted by the city's finance
officer with figures from `project_figures` for each period, through the
services, so the log, the audit trail and the calendar see what real use leaves:

- 博爱厦门 (running 11 months): its first quarterly progress published ten days
  late, the second on its due day, the third on its due day and corrected a
  week later (v2 with a correction note; v1 stays published);
- the typhoon appeal: every 5-day emergency receipts disclosure on its due day,
  and, its appeal ending the day the demo is loaded (the plan's end moved to
  today, the one date this module changes), its final account;
- 红十字爱心小书包: its first quarterly progress sent through the approvals
  engine (approved by the city's branch administrator, who publishes it), and
  the next one drafted, not yet submitted;
- 翔安 first-aid equipment (running a year): its first quarterly progress was
  never published, so the calendar shows it overdue;
- the annual work and audit reports the calendar finds overdue when the demo is
  loaded (last year's, of the districts without projects), published before
  their due day, so the project above is the calendar's one overdue item.

Past publications happen at their moment: the clock (`django.utils.timezone.now`)
is set to that moment for the drafting and publishing calls, as the giving demo
sets the payment channel's clock, so the log leaf, `published_at` and the
audit trail agree on when it was published. Idempotent: nothing happens when
any demo project already has a disclosure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from rendao.core.demo.funduse import _decide_all
from rendao.core.models import Branch, User
from rendao.disclosure.calendar import DisclosureKind, DueStatus, add_months
from rendao.disclosure.due import dues_for_branch
from rendao.disclosure.figures import Period, as_disclosure_figures, branch_figures, project_figures
from rendao.disclosure.models import Disclosure, Kind
from rendao.disclosure.services import disclosure_correct, disclosure_draft, disclosure_publish
from rendao.funds.models import FundraisingProject

DRAFTER = "finance"
PROJECTS = {
    "bookbag": "红十字爱心小书包",
    "typhoon": "台风“白鹭”灾后紧急救助",
    "hospital": "翔安区基层卫生院急救设备购置",
    "general": "博爱厦门·人道救助募捐",
}
EMERGENCY_DAYS = 5
PUBLISH_AT = time(10, 0)
ANNUAL = (DisclosureKind.ANNUAL_REPORT, DisclosureKind.ANNUAL_AUDIT)


@dataclass
class DisclosureDemoResult:
    published: int = 0
    corrected: int = 0
    drafts: int = 0


@contextmanager
def _clock(moment: datetime | None) -> Iterator[None]:
    """Run the services at `moment` (None: now)."""
    if moment is None:
        yield
        return
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, PUBLISH_AT))


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _body(project: FundraisingProject, period: Period, figures: dict[str, int], lead: str) -> str:
    return (
        f"{lead}\n\n"
        f"公示期间：{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}。\n"
        f"本期收到捐赠 {_yuan(figures['received'])} 元，退款 {_yuan(figures['refunded'])} 元，"
        f"净收入 {_yuan(figures['net_income'])} 元；支出 {_yuan(figures['paid_out'])} 元；"
        f"期末结余 {_yuan(figures['balance'])} 元。\n"
        f"收到物资价值 {_yuan(figures['goods_received_value'])} 元，"
        f"发放物资价值 {_yuan(figures['goods_issued_value'])} 元。\n"
        f"以上数字由系统按捐赠、拨付和物资记录汇总生成，明细见项目公示页（{project.title}）。"
    )


def _draft(
    project: FundraisingProject,
    kind: str,
    period: Period,
    title: str,
    lead: str,
    *,
    at: datetime | None = None,
) -> Disclosure:
    figures = as_disclosure_figures(project_figures(project, period))
    with _clock(at):
        return disclosure_draft(
            actor=User.objects.get(username=DRAFTER),
            branch=project.branch,
            project=project,
            kind=kind,
            period_start=period.start,
            period_end=period.end,
            title=title,
            body=_body(project, period, figures, lead),
            figures=figures,
        )


def _published(
    project: FundraisingProject,
    kind: str,
    period: Period,
    title: str,
    lead: str,
    at: datetime | None,
    result: DisclosureDemoResult,
) -> Disclosure:
    """Drafted the day before `at` (or now) and published at `at`."""
    drafted = None if at is None else at - timedelta(days=1)
    draft = _draft(project, kind, period, title, lead, at=drafted)
    with _clock(at):
        published = disclosure_publish(actor=User.objects.get(username=DRAFTER), disclosure=draft)
    result.published += 1
    return published


def _quarter(start: date, k: int) -> Period:
    """The k-th three-month period from `start` (k = 1 is the first), as the calendar counts."""
    return Period(add_months(start, 3 * (k - 1)), add_months(start, 3 * k) - timedelta(days=1))


def _start(project: FundraisingProject) -> date:
    return project.opened_on or project.start_date


def _general(project: FundraisingProject, today: date, result: DisclosureDemoResult) -> None:
    start = _start(project)
    quarters = [q for q in (_quarter(start, k) for k in (1, 2, 3)) if q.end < today]
    for k, period in enumerate(quarters, start=1):
        due = period.end + timedelta(days=1)
        # The first one late (the calendar shows "done, late"), the others on their due day.
        at = _at(min(due + timedelta(days=10) if k == 1 else due, today))
        if at > timezone.now():
            at = timezone.now()
        title = f"{project.title} 第{k}季度募捐及使用情况公示"
        lead = f"现将“{project.title}”第{k}季度的募捐收入和善款使用情况公示如下。"
        published = _published(project, Kind.PROGRESS_QUARTERLY, period, title, lead, at, result)
        if k == 3:
            _correct(project, published, period, min(at + timedelta(days=7), timezone.now()), result)


def _correct(
    project: FundraisingProject,
    published: Disclosure,
    period: Period,
    at: datetime,
    result: DisclosureDemoResult,
) -> None:
    """A correction: the first version did not say what the money was spent on."""
    figures = as_disclosure_figures(project_figures(project, period))
    lead = (
        f"现将“{project.title}”第3季度的募捐收入和善款使用情况公示如下。"
        "本期支出按本会年度计划统筹用于人道救助、应急救护培训和备灾救灾，每笔支出的用途和收款单位见项目公示页。"
    )
    finance = User.objects.get(username=DRAFTER)
    with _clock(at - timedelta(hours=2)):
        correction = disclosure_correct(
            actor=finance,
            published=published,
            title=published.title,
            body=_body(project, period, figures, lead),
            figures=figures,
            correction_note="第1版正文未说明本期支出的用途，现补充说明；各项金额不变。",
        )
    with _clock(at):
        disclosure_publish(actor=finance, disclosure=correction)
    result.corrected += 1
    result.published += 1


def _typhoon(project: FundraisingProject, today: date, result: DisclosureDemoResult) -> None:
    # The appeal ends today: its final account can be shown (Charity Law Art 79).
    if project.end_date != today:
        FundraisingProject.objects.filter(pk=project.pk).update(end_date=today)
        project.end_date = today
    start = _start(project)
    window = start
    k = 1
    while window <= today:
        due = window + timedelta(days=EMERGENCY_DAYS)
        period = Period(window, min(due - timedelta(days=1), today))
        # Published on its due day; the last window (it ends today, with the appeal) now.
        at = _at(due) if due <= today and _at(due) < timezone.now() else None
        title = f"{project.title} 第{k}期接收捐赠情况公示"
        lead = f"应急救助期间每5日公示一次接收捐赠情况。现公示“{project.title}”第{k}期。"
        _published(project, Kind.EMERGENCY_RECEIPTS, period, title, lead, at, result)
        window = due
        k += 1
    period = Period(start, today)
    title = f"{project.title} 募捐活动结束后的全部收支情况公示"
    lead = f"“{project.title}”募捐活动已于{today:%Y年%m月%d日}结束，现将全部收入、支出和结余公示如下。"
    _published(project, Kind.FINAL_ACCOUNT, period, title, lead, None, result)


def _bookbag(project: FundraisingProject, today: date, result: DisclosureDemoResult) -> None:
    start = _start(project)
    first = _quarter(start, 1)
    if first.end < today:
        title = f"{project.title} 第1季度募捐及使用情况公示"
        lead = f"现将“{project.title}”第1季度的募捐收入和善款使用情况公示如下。"
        draft = _draft(project, Kind.PROGRESS_QUARTERLY, first, title, lead)
        # Approved by the city's branch administrator (the default "disclosure" flow),
        # whose approval publishes it.
        _submit(draft)
        _decide_all("disclosure", draft.pk)
        result.published += 1
    # The next one, drafted from the data so far, waiting for the finance officer.
    upcoming = Period(add_months(start, 3) if first.end < today else start, today)
    title = f"{project.title} 第2季度募捐及使用情况公示"
    lead = f"现将“{project.title}”本季度至今的募捐收入和善款使用情况公示如下。"
    _draft(project, Kind.PROGRESS_QUARTERLY, upcoming, title, lead)
    result.drafts += 1


def _submit(draft: Disclosure) -> None:
    from rendao.disclosure.services import disclosure_submit

    disclosure_submit(actor=User.objects.get(username=DRAFTER), disclosure=draft)


def _annual(today: date, result: DisclosureDemoResult) -> None:
    """The annual work and audit reports the calendar finds overdue (districts owe last
    year's even without projects), published ten days before their due day."""
    city = Branch.objects.get(depth=1)
    owed = [
        item
        for item in dues_for_branch(city, today)
        if item.due.kind in ANNUAL and item.due.status == DueStatus.OVERDUE and item.project_id is None
    ]
    finance = User.objects.get(username=DRAFTER)
    for item in owed:
        branch, due = item.branch, item.due
        period = Period(due.period_start, due.period_end)
        figures = as_disclosure_figures(branch_figures(branch, period))
        report = due.kind == DisclosureKind.ANNUAL_REPORT
        name = "年度工作报告" if report else "年度财务审计报告"
        body = (
            f"{branch.name}{period.start.year}{name}。\n\n"
            f"本年度公开募捐收到捐赠 {_yuan(figures['received'])} 元，支出 {_yuan(figures['paid_out'])} 元。"
            + ("" if report else "\n审计机构：厦门演示会计师事务所（演示），审计意见：标准无保留意见。")
        )
        at = min(_at(due.due_on - timedelta(days=10)), timezone.now())
        with _clock(at - timedelta(days=1)):
            draft = disclosure_draft(
                actor=finance,
                branch=branch,
                kind=due.kind,
                period_start=period.start,
                period_end=period.end,
                title=f"{branch.name}{period.start.year}{name}",
                body=body,
                figures=figures,
            )
        with _clock(at):
            disclosure_publish(actor=finance, disclosure=draft)
        result.published += 1


def disclosures_demo_load(*, today: date | None = None) -> DisclosureDemoResult:
    """Load the disclosure demo after the giving and fund-use demos; a second load changes nothing."""
    result = DisclosureDemoResult()
    projects = {
        key: FundraisingProject.objects.filter(title=title).first() for key, title in PROJECTS.items()
    }
    present = {key: p for key, p in projects.items() if p is not None}
    if len(present) != len(PROJECTS) or Disclosure.objects.filter(project__in=present.values()).exists():
        return result
    today = today or timezone.localdate()
    with transaction.atomic():
        _general(present["general"], today, result)
        _typhoon(present["typhoon"], today, result)
        _bookbag(present["bookbag"], today, result)
        _annual(today, result)
        # present["hospital"]: its first quarter's progress disclosure is left undone (overdue).
    return result

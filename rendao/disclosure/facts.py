"""From database rows to the calendar engine's facts, for one branch's subtree.

`rendao.disclosure.calendar` is a pure rules engine over plain dataclasses; this
module reads the rows it needs in a fixed number of queries (branches, projects,
disbursements, published disclosures) whatever the size of the subtree, and
maps them:

- projects: every `FundraisingProject` of the subtree that has opened (drafts
  owe nothing). `start = opened_on or start_date`, `end = end_date`, `closed_on`,
  the emergency flag. Subject key ``project:<id>``.
- transactions (MCA Order 81): paid disbursements of the subtree that went to a
  related party (the flag copied onto the disbursement), or whose amount reaches
  ``settings.DISCLOSURE_MAJOR_TRANSACTION_FEN``. A transaction happens when money
  leaves: it is dated by its first bank transfer (`Payment.paid_on`); approved
  but unpaid ones owe nothing yet. Subject key ``disbursement:<id>``; one
  disbursement may owe both kinds.
- published disclosures: per series, the newest published version says what is
  disclosed (kind, project, period), and the FIRST publication of the series is
  the date it was disclosed: a correction does not reset the original date.
  A project disclosure counts for its project; a transaction disclosure counts for
  every transaction of its kind whose day lies in its period, made by a
  disbursement of its branch or below (and of its project, if it names one), so
  one disclosure may list several transactions. The project workflow's "final
  report published" date also counts as a final account.
- annual report and audit: published disclosures of kinds `annual_report` /
  `annual_audit` of the branch itself covering 1 Jan–31 Dec of one year. Only
  branches of the kinds in ``settings.DISCLOSURE_ANNUAL_BRANCH_KINDS`` (legal
  entities: the city society and the districts by default) owe them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from rendao.core.models import Branch
from rendao.disbursements.models import Disbursement
from rendao.disclosure.calendar import (
    AnnualFiling,
    DisclosureKind,
    ProjectFacts,
    Published,
    TransactionFacts,
    effective_end,
)
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.models import FundraisingProject

PROJECT_KINDS = frozenset(
    {DisclosureKind.PROGRESS_QUARTERLY, DisclosureKind.FINAL_ACCOUNT, DisclosureKind.EMERGENCY_RECEIPTS}
)
TRANSACTION_KINDS = {
    DisclosureKind.RELATED_PARTY: "related_party",
    DisclosureKind.MAJOR_TRANSACTION: "major",
}
ANNUAL_KINDS = frozenset({DisclosureKind.ANNUAL_REPORT, DisclosureKind.ANNUAL_AUDIT})


def project_key(pk: int) -> str:
    return f"project:{pk}"


def disbursement_key(pk: int) -> str:
    return f"disbursement:{pk}"


def branch_key(pk: int) -> str:
    return f"branch:{pk}"


@dataclass(frozen=True)
class Subject:
    """What a subject key stands for: shown on the calendar, used to notify and to draft."""

    key: str
    title: str
    branch: Branch
    project_id: int | None = None


@dataclass
class BranchFacts:
    """One branch's own facts (its subtree's are split per branch that owns them)."""

    branch: Branch
    owes_annual: bool
    projects: list[ProjectFacts] = field(default_factory=list)
    transactions: list[TransactionFacts] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    year_reports: dict[int, AnnualFiling] = field(default_factory=dict)


@dataclass
class SubtreeFacts:
    root: Branch
    branches: dict[int, BranchFacts]
    subjects: dict[str, Subject]


@dataclass(frozen=True)
class _Transaction:
    facts: TransactionFacts
    branch_path: str
    project_id: int | None


def major_transaction_fen() -> int:
    return int(settings.DISCLOSURE_MAJOR_TRANSACTION_FEN)


def annual_branch_kinds() -> frozenset[str]:
    return frozenset(settings.DISCLOSURE_ANNUAL_BRANCH_KINDS)


def subtree_facts(root: Branch) -> SubtreeFacts:
    """Every fact the calendar needs for `root` and the branches under it (four queries)."""
    branches = {b.pk: b for b in Branch.objects.filter(path__startswith=root.path).order_by("path")}
    kinds = annual_branch_kinds()
    facts = {
        pk: BranchFacts(branch=b, owes_annual=b.is_active and b.kind in kinds) for pk, b in branches.items()
    }
    subjects: dict[str, Subject] = {}
    for pk, b in branches.items():
        subjects[branch_key(pk)] = Subject(branch_key(pk), b.name, b)

    projects = FundraisingProject.objects.filter(
        branch__path__startswith=root.path, opened_on__isnull=False
    ).only(
        "pk",
        "title",
        "branch_id",
        "start_date",
        "end_date",
        "opened_on",
        "closed_on",
        "emergency",
        "final_report_published_on",
    )
    final_reports: list[tuple[ProjectFacts, date]] = []
    for p in projects.order_by("pk"):
        start = p.opened_on or p.start_date
        # Opened after its planned end (the services refuse it, old data might not):
        # a one-day project rather than a crash of the whole calendar.
        project = ProjectFacts(
            key=project_key(p.pk),
            title=p.title,
            start=start,
            end=max(p.end_date, start),
            emergency=p.emergency,
            closed_on=p.closed_on,
        )
        facts[p.branch_id].projects.append(project)
        subjects[project.key] = Subject(project.key, p.title, branches[p.branch_id], p.pk)
        if p.final_report_published_on is not None:
            final_reports.append((project, p.final_report_published_on))
    for project, published_on in final_reports:
        owner = subjects[project.key].branch.pk
        facts[owner].published.append(
            Published(project.key, DisclosureKind.FINAL_ACCOUNT, effective_end(project), published_on)
        )

    threshold = major_transaction_fen()
    disbursements = (
        Disbursement.objects.filter(branch__path__startswith=root.path)
        .filter(Q(related_party=True) | Q(amount_fen__gte=threshold))
        .annotate(first_paid_on=Min("payments__paid_on"))
        .filter(first_paid_on__isnull=False)
        .values_list(
            "pk", "number", "branch_id", "project_id", "related_party", "amount_fen", "first_paid_on"
        )
        .order_by("pk")
    )
    transactions: list[_Transaction] = []
    for pk, number, branch_id, project_id, related, amount_fen, paid_on in disbursements:
        key = disbursement_key(pk)
        subjects[key] = Subject(key, number, branches[branch_id], project_id)
        kinds_owed = (["related_party"] if related else []) + (["major"] if amount_fen >= threshold else [])
        for kind in kinds_owed:
            t = TransactionFacts(key=key, kind=kind, occurred_on=paid_on)  # type: ignore[arg-type]
            facts[branch_id].transactions.append(t)
            transactions.append(_Transaction(t, branches[branch_id].path, project_id))

    _add_published(root, facts, branches, subjects, transactions)
    return SubtreeFacts(root=root, branches=facts, subjects=subjects)


def _add_published(
    root: Branch,
    facts: dict[int, BranchFacts],
    branches: dict[int, Branch],
    subjects: dict[str, Subject],
    transactions: list[_Transaction],
) -> None:
    step = Branch.steplen
    ancestors = [root.path[: i * step] for i in range(1, len(root.path) // step)]
    # A branch above may disclose for a project or transaction of the subtree.
    rows = (
        Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)
        .filter(
            Q(branch__path__startswith=root.path)
            | Q(branch__path__in=ancestors)
            | Q(project__branch__path__startswith=root.path)
        )
        .values_list(
            "series", "version", "kind", "branch_id", "branch__path", "project_id", "period_start",
            "period_end", "published_at",
        )
        .order_by("series", "version")
    )  # fmt: skip
    newest: dict[UUID, _Row] = {}
    first_published: dict[UUID, date] = {}
    for series, _version, kind, branch_id, branch_path, project_id, start, end, published_at in rows:
        if published_at is None or kind not in DisclosureKind.values:
            continue
        day = timezone.localdate(published_at)
        if series not in first_published or day < first_published[series]:
            first_published[series] = day
        # Ordered by version: the newest published version says what is disclosed.
        newest[series] = _Row(DisclosureKind(kind), branch_id, branch_path, project_id, start, end)

    by_kind: dict[str, list[_Transaction]] = defaultdict(list)
    for t in transactions:
        by_kind[t.facts.kind].append(t)

    for series, row in newest.items():
        published_on = first_published[series]
        if row.kind in PROJECT_KINDS and row.project_id is not None:
            key = project_key(row.project_id)
            subject = subjects.get(key)
            if subject is not None:
                facts[subject.branch.pk].published.append(Published(key, row.kind, row.end, published_on))
        elif row.kind in TRANSACTION_KINDS:
            for t in by_kind[TRANSACTION_KINDS[row.kind]]:
                if not t.branch_path.startswith(row.branch_path):
                    continue
                if row.project_id is not None and t.project_id != row.project_id:
                    continue
                if row.start <= t.facts.occurred_on <= row.end:
                    owner = subjects[t.facts.key].branch.pk
                    facts[owner].published.append(
                        Published(t.facts.key, row.kind, t.facts.occurred_on, published_on)
                    )
        elif row.kind in ANNUAL_KINDS and row.branch_id in facts and row.project_id is None:
            _add_annual(facts[row.branch_id], row, published_on)


@dataclass(frozen=True)
class _Row:
    kind: DisclosureKind
    branch_id: int
    branch_path: str
    project_id: int | None
    start: date
    end: date


def _add_annual(owner: BranchFacts, row: _Row, published_on: date) -> None:
    start, end = row.start, row.end
    # Only a whole calendar year is an annual report (the engine matches the year exactly).
    if (start.month, start.day, end.month, end.day) != (1, 1, 12, 31) or start.year != end.year:
        return
    filing = owner.year_reports.get(end.year, AnnualFiling())
    if row.kind == DisclosureKind.ANNUAL_REPORT:
        filing = AnnualFiling(_earliest(filing.report_published_on, published_on), filing.audit_published_on)
    else:
        filing = AnnualFiling(filing.report_published_on, _earliest(filing.audit_published_on, published_on))
    owner.year_reports[end.year] = filing


def _earliest(current: date | None, new: date) -> date:
    return new if current is None or new < current else current

"""What is due, due soon and overdue in a branch's subtree, and telling finance staff about it.

`dues_for_branch` runs the calendar engine over the facts of `rendao.disclosure.facts`
(a fixed number of queries for any subtree). `overdue_notify` is the daily job:
for every overdue item (and, with ``DISCLOSURE_NOTIFY_DUE_SOON``, every item due
soon) it tells the finance staff (`Perm.FINANCE_MANAGE`) of the responsible branch
and of its parent, through the outbox, once per item, stage and notified branch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core import inbox
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope
from rendao.core.services.outbox import message_enqueue
from rendao.disclosure.calendar import Due, DueStatus, dues_for
from rendao.disclosure.facts import branch_key, subtree_facts
from rendao.disclosure.models import DueNotice, DueNoticeStage

logger = logging.getLogger(__name__)

# Where staff draft a disclosure; the drafting page reads these query parameters.
DRAFT_PATH = "/staff/disclosures/new/"
# A guard against a misconfigured role reaching everyone: like the approvals' notices.
MAX_RECIPIENTS = 100
NOTIFY_PERM = Perm.FINANCE_MANAGE


@dataclass(frozen=True)
class DueItem:
    """One `Due` of the engine with what the pages and the notices need to show it."""

    due: Due
    title: str
    branch: Branch  # the responsible branch: the project's, the disbursement's, or the filer itself
    project_id: int | None

    @property
    def kind(self) -> str:
        return self.due.kind

    @property
    def status(self) -> str:
        return self.due.status

    @property
    def key(self) -> str:
        """Stable across runs: what the item is about and which period."""
        d = self.due
        return f"{d.kind}|{d.subject}|{d.period_start.isoformat()}|{d.period_end.isoformat()}"

    @property
    def draft_url(self) -> str:
        query = {
            "kind": str(self.due.kind),
            "start": self.due.period_start.isoformat(),
            "end": self.due.period_end.isoformat(),
        }
        if self.project_id is not None:
            query = {"kind": query["kind"], "project": str(self.project_id), **query}
        else:
            query["branch"] = str(self.branch.pk)
        return f"{DRAFT_PATH}?{urlencode(query)}"


def soon_days() -> int:
    return int(settings.DISCLOSURE_DUE_SOON_DAYS)


def dues_for_branch(branch: Branch, today: date, *, soon: int | None = None) -> list[DueItem]:
    """Every due item of `branch` and its subtree on `today` (see `calendar.dues_for`), by due day."""
    facts = subtree_facts(branch)
    items: list[DueItem] = []
    for own in facts.branches.values():
        if not (own.projects or own.transactions or own.owes_annual):
            continue
        society = branch_key(own.branch.pk)
        for due in dues_for(
            projects=own.projects,
            transactions=own.transactions,
            published=own.published,
            year_reports=own.year_reports,
            today=today,
            soon_days=soon_days() if soon is None else soon,
            society_key=society,
        ):
            if due.subject == society and not own.owes_annual:
                continue
            subject = facts.subjects[due.subject]
            items.append(
                DueItem(due=due, title=subject.title, branch=subject.branch, project_id=subject.project_id)
            )
    items.sort(key=lambda i: (i.due.due_on, i.branch.path, i.due.subject, i.due.kind, i.due.period_start))
    return items


# --- notices ----------------------------------------------------------------------------


def _finance_holders(branch_ids: set[int]) -> dict[int, list[User]]:
    """Active users holding the notify permission through a role held at exactly each branch."""
    role_ids = [r.pk for r in Role.objects.all() if str(NOTIFY_PERM) in (r.permissions or [])]
    holders: dict[int, list[User]] = defaultdict(list)
    rows = (
        Membership.objects.filter(role_id__in=role_ids, branch_id__in=branch_ids, user__is_active=True)
        .select_related("user")
        .order_by("branch_id", "user_id")
    )
    for m in rows:
        if m.user not in holders[m.branch_id]:
            holders[m.branch_id].append(m.user)
    return holders


def _parent(branch: Branch, by_path: dict[str, Branch]) -> Branch | None:
    return by_path.get(branch.path[: -Branch.steplen]) if branch.depth > 1 else None


def _recipients(branch: Branch, by_path: dict[str, Branch], holders: dict[int, list[User]]) -> list[User]:
    """The branch's finance staff; a branch without any is served by the nearest one above with some."""
    current: Branch | None = branch
    while current is not None:
        if holders.get(current.pk):
            return holders[current.pk]
        current = _parent(current, by_path)
    return []


def _message(item: DueItem, stage: str) -> tuple[str, str]:
    d = item.due
    values = {
        "kind": d.kind.label,
        "title": item.title,
        "branch": item.branch.name,
        "start": d.period_start.isoformat(),
        "end": d.period_end.isoformat(),
        "due": d.due_on.isoformat(),
        "url": settings.SITE_URL
        + reverse("disclosure:calendar")
        + "?"
        + urlencode({"branch": item.branch.pk, "status": stage}),
    }
    if stage == DueNoticeStage.OVERDUE:
        subject = _("Disclosure overdue: %(kind)s, %(title)s") % values
        body = (
            _(
                "%(kind)s for “%(title)s” (%(branch)s), period %(start)s to %(end)s, was due on %(due)s "
                "and has not been published. %(url)s"
            )
            % values
        )
    else:
        subject = _("Disclosure due soon: %(kind)s, %(title)s") % values
        body = (
            _(
                "%(kind)s for “%(title)s” (%(branch)s), period %(start)s to %(end)s, "
                "is due on %(due)s. %(url)s"
            )
            % values
        )
    return subject, body


def _notify_once(item: DueItem, stage: str, notified: Branch, users: list[User]) -> int:
    """Record the notice and enqueue its messages in one transaction; 0 if it was sent before."""
    d = item.due
    try:
        with transaction.atomic():
            notice = DueNotice.objects.create(
                subject=d.subject,
                kind=d.kind,
                period_start=d.period_start,
                period_end=d.period_end,
                due_on=d.due_on,
                stage=stage,
                branch=notified,
                responsible=item.branch,
                recipients=len(users),
            )
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = _message(item, stage)
            for user in users:
                channel, recipient = ("email", user.email) if user.email else ("console", user.get_username())
                message_enqueue(
                    channel=channel,
                    recipient=recipient,
                    kind=f"disclosure.{stage}",
                    subject=subject,
                    body=body,
                    user=user,
                    branch=notified,
                )
    except IntegrityError:
        # Already sent by an earlier run, or by a run going on at the same time.
        return 0
    logger.info("disclosure notice %s: %s %s to branch %s", notice.pk, stage, item.key, notified.pk)
    return len(users)


def overdue_notify(today: date | None = None) -> int:
    """Notify every overdue (and, if configured, due-soon) item once per notified branch; messages sent."""
    today = today or timezone.localdate()
    stages = {DueStatus.OVERDUE: DueNoticeStage.OVERDUE}
    if settings.DISCLOSURE_NOTIFY_DUE_SOON:
        stages[DueStatus.DUE_SOON] = DueNoticeStage.DUE_SOON
    branches = list(Branch.objects.order_by("path"))
    by_path = {b.path: b for b in branches}
    holders = _finance_holders({b.pk for b in branches})
    sent = 0
    for root in (b for b in branches if b.depth == 1):
        for item in dues_for_branch(root, today):
            stage = stages.get(DueStatus(item.status))
            if stage is None:
                continue
            told: set[int] = set()
            for notified in (item.branch, _parent(item.branch, by_path)):
                if notified is None:
                    continue
                users = [u for u in _recipients(notified, by_path, holders) if u.pk not in told]
                users = users[:MAX_RECIPIENTS]
                told.update(u.pk for u in users)
                sent += _notify_once(item, stage, notified, users)
    return sent


# --- the workbench ----------------------------------------------------------------------

# The workbench is opened all day and the calendar reads every project of the
# subtree: counts are kept a few minutes per branch and day. Publishing a
# disclosure shows on the calendar page at once, on the workbench within this time.
INBOX_CACHE_SECONDS = 300


def _today() -> date:
    # One seam for the tests, which read the workbench as of a fixed day.
    return timezone.localdate()


def _inbox_counts(branch: Branch, today: date) -> dict[str, tuple[int, date | None]]:
    key = f"rendao:disclosure-dues:{branch.pk}:{today.isoformat()}"
    counts: dict[str, tuple[int, date | None]] | None = cache.get(key)
    if counts is None:
        counts = {}
        items = dues_for_branch(branch, today)
        for status in (DueStatus.OVERDUE, DueStatus.DUE_SOON):
            days = [i.due.due_on for i in items if i.status == status]
            counts[str(status)] = (len(days), min(days) if days else None)
        cache.set(key, counts, INBOX_CACHE_SECONDS)
    return counts


def _inbox_item(user: User, branch: Branch, status: DueStatus, title: Promise) -> list[inbox.InboxItem]:
    if not in_scope(user, NOTIFY_PERM, branch):
        return []
    count, first_due = _inbox_counts(branch, _today())[str(status)]
    if not count:
        return []
    url = reverse("disclosure:calendar") + "?" + urlencode({"branch": branch.pk, "status": str(status)})
    due = datetime.combine(first_due, time.min, tzinfo=timezone.get_current_timezone()) if first_due else None
    return [inbox.InboxItem(title=title, url=url, count=count, due=due)]


def disclosures_overdue(user: User, branch: Branch) -> list[inbox.InboxItem]:
    return _inbox_item(user, branch, DueStatus.OVERDUE, gettext_lazy("Disclosures overdue"))


def disclosures_due_soon(user: User, branch: Branch) -> list[inbox.InboxItem]:
    return _inbox_item(user, branch, DueStatus.DUE_SOON, gettext_lazy("Disclosures due soon"))


def register_inbox() -> None:
    inbox.register("disclosure.overdue")(disclosures_overdue)
    inbox.register("disclosure.due_soon")(disclosures_due_soon)

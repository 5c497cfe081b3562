"""The public disclosure pages (信息公开, mobile, WeUI): society, branch and project
figures, the donor list, the full list of days and a disclosure's history.

Thin: every number comes from rendao.disclosure.figures (pre-aggregated daily
totals, never a scan of the donations), so each page takes the same number of
queries however many donations there are (tested). Only projects whose giving
page is public are shown here (rendao.funds.selectors.project_get_public); any
other id is the same 404 as an id that does not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rendao.core.models import Branch
from rendao.disclosure.figures import DayLine, Figures, branch_figures, project_figures
from rendao.disclosure.models import Disclosure
from rendao.disclosure.selectors import disclosure_history, disclosures_public
from rendao.funds import selectors as funds_selectors
from rendao.funds.models import Donation, FundraisingProject
from rendao.funds.payments import CHANNEL_LABELS
from rendao.ledger.selectors import ledger_size

RECENT_DAYS = 30
DONORS_PER_PAGE = 50
# Upper bound on how stale an anonymous visitor's page can be for changes that
# append nothing to the log (a project opening or closing); see `cached_for_anonymous`.
OPEN_PAGE_CACHE_SECONDS = 60

View = Callable[..., HttpResponse]


# The log's size, as last read, is kept for a second: a page served from the cache
# then costs no query at all (on SQLite a query means opening a connection).
LOG_SIZE_KEY = "rendao:page:open:log-size"
LOG_SIZE_SECONDS = 1


def _log_size() -> int:
    size = cache.get(LOG_SIZE_KEY)
    if size is None:
        size = ledger_size()
        cache.set(LOG_SIZE_KEY, size, LOG_SIZE_SECONDS)
    return int(size)


def cached_for_anonymous(view: View) -> View:
    """Serve anonymous visitors a rendered copy until anything public changes.

    Every gift, refund, payment out, goods move and publication appends to the
    transparency log, so the log's size is in the cache key: a page is at most a
    second older than the last such event (an auditor checking right after a
    publication sees it), and while nothing happens a page costs no query. The
    pages hold nothing personal (no CSRF token, donors by public name only).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated or request.GET:
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
        key = f"rendao:page:open:{path}:{get_language()}:{_log_size()}"
        html = cache.get(key)
        if html is not None:
            return HttpResponse(html)
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            cache.set(key, response.content, OPEN_PAGE_CACHE_SECONDS)
        return response

    return wrapper


def society_branch() -> Branch:
    """The city society: the root of the branch tree."""
    root: Branch | None = Branch.objects.filter(depth=1).order_by("path").first()
    if root is None:
        raise Http404(_("There is no society yet."))
    return root


def public_branch(pk: int) -> Branch:
    branch: Branch | None = Branch.objects.filter(pk=pk, is_active=True).first()
    if branch is None:
        raise Http404(_("There is no such branch."))
    return branch


def public_project(pk: int) -> FundraisingProject:
    project = funds_selectors.project_get_public(pk=pk)
    if project is None:
        raise Http404(_("There is no such fundraising project."))
    return project


# --- The donor list: keyset pages of (paid_at, id), newest first ---------------------


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    paid_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{_micros(self.paid_at)}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """`<microseconds since the epoch>.<id>`; anything else is refused."""
        micros, dot, pk = raw.partition(".")
        if not dot or not micros.isascii() or not micros.isdigit() or not pk.isascii() or not pk.isdigit():
            raise BadCursor(raw)
        if len(micros) > 17 or len(pk) > 18:
            raise BadCursor(raw)
        try:
            seconds, rest = divmod(int(micros), 1_000_000)
            paid_at = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest)
        except (OverflowError, OSError, ValueError):
            raise BadCursor(raw) from None
        return cls(paid_at=paid_at, pk=int(pk))


def _micros(at: datetime) -> int:
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class DonorPage:
    rows: list[Donation]
    next_cursor: str


def donors_page(project: FundraisingProject, before: Cursor | None) -> DonorPage:
    """One page of the project's donors: public name (the donor's choice), amount, date.

    Only the public columns are read, so nothing personal can leak into the page.
    """
    # One query per counted status, each an ordered walk of the funds_donation_recent
    # index (project, status, -paid_at) stopped by its LIMIT, merged here: a single
    # `status IN (...)` query would sort every paid row of a big project.
    page: list[Donation] = []
    for status in funds_selectors.COUNTED:
        rows = Donation.objects.filter(
            project=project, status=status, refund_flagged=False, paid_at__isnull=False
        )
        if before is not None:
            rows = rows.filter(Q(paid_at__lt=before.paid_at) | Q(paid_at=before.paid_at, pk__lt=before.pk))
        page.extend(
            rows.order_by("-paid_at", "-pk").only(
                "id", "public_name", "amount_fen", "refunded_fen", "paid_at"
            )[: DONORS_PER_PAGE + 1]
        )
    page.sort(key=lambda d: (d.paid_at, d.pk), reverse=True)
    more = len(page) > DONORS_PER_PAGE
    page = page[:DONORS_PER_PAGE]
    last = page[-1] if more else None
    cursor = Cursor(paid_at=last.paid_at, pk=last.pk).encode() if last is not None and last.paid_at else ""
    return DonorPage(rows=page, next_cursor=cursor)


# --- Pages ----------------------------------------------------------------------------


def _recent(days: list[DayLine]) -> list[DayLine]:
    return list(reversed(days[-RECENT_DAYS:]))


def _disclosures(
    *, project: FundraisingProject | None = None, branch: Branch | None = None
) -> list[Disclosure]:
    return list(disclosures_public(project=project, branch=branch)[:50])


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("tab", "home")
    return render(request, template, context, status=status)


def _summary(figures: Figures, **context: Any) -> dict[str, Any]:
    return {
        "figures": figures,
        "recent_days": _recent(figures.by_day),
        "more_days": len(figures.by_day) > RECENT_DAYS,
        "goods": bool(figures.goods_received or figures.goods_issued),
        **context,
    }


def _branch_context(branch: Branch, *, society: bool) -> dict[str, Any]:
    figures = branch_figures(branch)
    projects = list(
        FundraisingProject.objects.filter(
            branch__path__startswith=branch.path, status__in=funds_selectors.PUBLIC_STATUSES
        )
        .select_related("branch")
        .only("id", "title", "status", "raised_fen", "branch__name")
        .order_by("-opened_on", "-pk")[:100]
    )
    children = list(
        Branch.objects.get_children(branch).filter(is_active=True).only("id", "name", "path", "depth")
    )
    json_url = (
        reverse("api:open_summary_society")
        if society
        else reverse("api:open_summary_branch", kwargs={"pk": branch.pk})
    )
    days_url = (
        reverse("disclosure:open_society_days")
        if society
        else reverse("disclosure:open_branch_days", kwargs={"pk": branch.pk})
    )
    return _summary(
        figures,
        branch=branch,
        society=society,
        projects=projects,
        children=children,
        disclosures=_disclosures(branch=branch),
        json_url=json_url,
        days_url=days_url,
    )


@require_GET
@cached_for_anonymous
def open_society(request: HttpRequest) -> HttpResponse:
    """GET /open/: the whole society's figures (every branch, every public project)."""
    return _page(request, "disclosure/public_branch.html", _branch_context(society_branch(), society=True))


@require_GET
@cached_for_anonymous
def open_branch(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /open/b/<id>/: one branch and the branches under it."""
    return _page(request, "disclosure/public_branch.html", _branch_context(public_branch(pk), society=False))


@require_GET
@cached_for_anonymous
def open_project(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /open/p/<id>/: one project's figures, plan, disclosures and donors."""
    project = public_project(pk)
    figures = project_figures(project)
    context = _summary(
        figures,
        project=project,
        partners=funds_selectors.project_co_initiators(project=project),
        channel_labels=[str(CHANNEL_LABELS.get(c, c)) for c in project.channels],
        disclosures=_disclosures(project=project),
        donors=donors_page(project, None),
        json_url=reverse("api:open_summary_project", kwargs={"pk": project.pk}),
        days_url=reverse("disclosure:open_project_days", kwargs={"pk": project.pk}),
    )
    return _page(request, "disclosure/public_project.html", context)


@require_GET
@cached_for_anonymous
def open_project_donors(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /open/p/<id>/donors/?before=<cursor>: the donor list, 50 a page, newest first."""
    project = public_project(pk)
    raw = request.GET.get("before", "")
    try:
        before = Cursor.decode(raw) if raw else None
    except BadCursor:
        return _page(
            request,
            "disclosure/public_error.html",
            {
                "message": _(
                    "This page link is not valid. Start again from the first page of the donor list."
                ),
                "back_url": reverse("disclosure:open_project_donors", kwargs={"pk": project.pk}),
            },
            status=400,
        )
    context = {"project": project, "donors": donors_page(project, before), "first": before is None}
    return _page(request, "disclosure/public_donors.html", context)


def _days(request: HttpRequest, figures: Figures, title: str, back_url: str) -> HttpResponse:
    days = list(reversed(figures.by_day))
    context = {"figures": figures, "days": days, "title": title, "back_url": back_url}
    return _page(request, "disclosure/public_days.html", context)


@require_GET
@cached_for_anonymous
def open_society_days(request: HttpRequest) -> HttpResponse:
    root = society_branch()
    return _days(request, branch_figures(root), root.name, reverse("disclosure:open_society"))


@require_GET
@cached_for_anonymous
def open_branch_days(request: HttpRequest, pk: int) -> HttpResponse:
    branch = public_branch(pk)
    back = reverse("disclosure:open_branch", kwargs={"pk": branch.pk})
    return _days(request, branch_figures(branch), branch.name, back)


@require_GET
@cached_for_anonymous
def open_project_days(request: HttpRequest, pk: int) -> HttpResponse:
    project = public_project(pk)
    back = reverse("disclosure:open_project", kwargs={"pk": project.pk})
    return _days(request, project_figures(project), project.title, back)


@require_GET
@cached_for_anonymous
def open_disclosure_history(request: HttpRequest, series: UUID) -> HttpResponse:
    """GET /open/d/<series>/: every published version of one disclosure, newest first."""
    versions = list(disclosure_history(series).select_related("branch", "project"))
    if not versions:
        raise Http404(_("There is no such disclosure."))
    context = {"versions": list(reversed(versions)), "current": versions[-1], "today": timezone.localdate()}
    return _page(request, "disclosure/public_history.html", context)

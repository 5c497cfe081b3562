"""Reading disclosures: the public list of current versions and a series' history."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import OuterRef, QuerySet, Subquery

from rendao.disclosure.models import Disclosure, DisclosureStatus

if TYPE_CHECKING:
    from rendao.core.models import Branch
    from rendao.funds.models import FundraisingProject


def _published() -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)


def disclosures_public(
    *, project: FundraisingProject | None = None, branch: Branch | None = None
) -> QuerySet[Disclosure]:
    """The current (newest published) version of each disclosure, newest first.

    `branch` covers the branch and every branch under it; `project` narrows to one project.
    """
    newest = _published().filter(series=OuterRef("series")).order_by("-version").values("version")[:1]
    qs = _published().filter(version=Subquery(newest))
    if project is not None:
        qs = qs.filter(project=project)
    if branch is not None:
        qs = qs.filter(branch__path__startswith=branch.path)
    return qs.select_related("branch", "project").order_by("-published_at", "-pk")


def disclosure_history(series: UUID | str) -> QuerySet[Disclosure]:
    """Every published version of one disclosure, oldest first."""
    return _published().filter(series=series).order_by("version")

"""The staff workbench's task inbox: what is waiting for this user in this branch.

Apps add what they know about by registering a provider, a function
`(user, branch) -> list[InboxItem]`, usually from their `AppConfig.ready()`::

    from rendao.core import inbox

    @inbox.register("aid.applications_to_review")
    def applications_to_review(user, branch): ...

A provider answers for the current branch's subtree, narrowed to the user's own
scope for the permission its items need, and returns nothing (not an error)
when the user lacks that permission. It should cost one or two queries: the
workbench calls every provider on every visit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from rendao.core.models import OutboxMessage
from rendao.core.selectors_outbox import outbox_list_for

if TYPE_CHECKING:
    from rendao.core.models import Branch, User


@dataclass(frozen=True)
class InboxItem:
    title: str | Promise
    # Where to deal with it; empty while that page does not exist yet.
    url: str
    count: int
    # When it falls due, if it has a deadline.
    due: datetime | None = None


InboxProvider = Callable[["User", "Branch"], list[InboxItem]]

_PROVIDERS: dict[str, InboxProvider] = {}


def register(key: str) -> Callable[[InboxProvider], InboxProvider]:
    """Register a provider under a unique key (re-registering replaces it)."""

    def decorator(provider: InboxProvider) -> InboxProvider:
        _PROVIDERS[key] = provider
        return provider

    return decorator


def unregister(key: str) -> None:
    _PROVIDERS.pop(key, None)


def inbox_items(user: User, branch: Branch | None) -> list[InboxItem]:
    """Every provider's items with something waiting, soonest due first."""
    if branch is None:
        return []
    items = [item for provider in _PROVIDERS.values() for item in provider(user, branch) if item.count > 0]
    # Items with a deadline first, by deadline; the rest keep registration order.
    return sorted(items, key=lambda i: (i.due is None, i.due.timestamp() if i.due else 0.0))


def _url_or_empty(name: str, query: dict[str, str] | None = None) -> str:
    try:
        url = reverse(name)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


@register("core.outbox_dead")
def dead_outbox_messages(user: User, branch: Branch) -> list[InboxItem]:
    """Outgoing messages given up after their last retry: someone must look."""
    # The outbox page's own reader, so the count matches the list it links to.
    qs = outbox_list_for(user=user).filter(status=OutboxMessage.Status.DEAD)
    in_branch = Q(branch__path__startswith=branch.path)
    if branch.depth == 1:
        # Branchless messages (sign-in codes) are the city society's; the reader
        # has already dropped them for users whose scope does not reach the root.
        in_branch |= Q(branch__isnull=True)
    n = qs.filter(in_branch).order_by().count()
    if not n:
        return []
    return [
        InboxItem(
            title=_("Outgoing messages given up after every retry"),
            url=_url_or_empty("core:outbox", {"status": OutboxMessage.Status.DEAD}),
            count=n,
        )
    ]

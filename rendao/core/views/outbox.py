"""The staff outbox page: what the platform sent, is sending, or gave up on.

Messages are listed through `rendao.core.selectors_outbox`, so a user sees only
their branches' messages (and branchless ones, such as sign-in codes, when they
hold the permission at the root). Recipients are always masked.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rendao.core import scope
from rendao.core.audit import RequestMeta
from rendao.core.channels import RouteError, channel_routes
from rendao.core.decorators import staff_required
from rendao.core.models import OutboxMessage, User
from rendao.core.permissions import Perm
from rendao.core.selectors_outbox import may_retry, outbox_get_for_retry, outbox_list_for
from rendao.core.services.outbox import outbox_retry

PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    # staff_required has let only signed-in, verified staff through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


def _channel_choices() -> list[str]:
    try:
        return sorted(channel_routes())
    except RouteError:
        # A broken setting fails the system checks at start-up; the page still works.
        return []


@require_GET
@staff_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not scope.has_perm_anywhere(user, Perm.OUTBOX_VIEW):
        raise PermissionDenied(_("You do not have permission to read outgoing messages."))
    qs = outbox_list_for(user=user)

    # A filter value that is not one of the choices (an old bookmark, a typo) is
    # ignored and said so, rather than silently showing an empty list.
    notices: list[str] = []
    status = request.GET.get("status", "")
    if status and status not in OutboxMessage.Status.values:
        notices.append(_("Unknown status filter ignored."))
        status = ""
    if status:
        qs = qs.filter(status=status)
    channels = _channel_choices()
    channel = request.GET.get("channel", "")
    if channel and channel not in channels:
        notices.append(_("Unknown channel filter ignored."))
        channel = ""
    if channel:
        qs = qs.filter(channel=channel)

    raw_page = request.GET.get("page", "1")
    try:
        number = int(raw_page)
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    # Past the end (messages were delivered and filtered away meanwhile) shows the last page.
    page = Paginator(qs, PER_PAGE).get_page(number)

    rows: list[dict[str, Any]] = [
        {
            "message": m,
            # Masked at enqueue: a delivered message no longer holds its recipient.
            "recipient": m.recipient_masked,
            "forgotten": m.forget_after_delivery and m.status == OutboxMessage.Status.SENT,
            "may_retry": m.status == OutboxMessage.Status.DEAD and may_retry(user, m),
        }
        for m in page.object_list
    ]
    filters = {k: v for k, v in (("status", status), ("channel", channel)) if v}
    context = {
        "nav": "outbox",
        "page": page,
        "rows": rows,
        "notices": notices,
        "statuses": OutboxMessage.Status.choices,
        "channels": channels,
        "status": status,
        "channel": channel,
        "filter_query": urlencode(filters),
    }
    return render(request, "staff/outbox.html", context)


@require_POST
@staff_required
def outbox_retry_view(request: HttpRequest, pk: str) -> HttpResponse:
    user = _user(request)
    message = outbox_get_for_retry(user=user, pk=pk)
    try:
        outbox_retry(actor=user, message=message, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("core:outbox")


urlpatterns: list[URLPattern] = [
    path("staff/outbox/", outbox_list, name="outbox"),
    path("staff/outbox/<uuid:pk>/retry/", outbox_retry_view, name="outbox_retry"),
]

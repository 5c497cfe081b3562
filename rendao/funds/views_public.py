"""The public giving pages (mobile, WeUI): project list and page, share poster, donate form,
partner pages and "my donations".

Thin: parse, call rendao.funds.selectors (reads) or rendao.funds.donations
(writes), render. Only projects that have opened are public (selectors.
PUBLIC_STATUSES); any other id is a 404, the same answer as an id that does not
exist, so the pages do not tell which plans are being prepared.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rendao.core.decorators import public_login_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.funds import selectors
from rendao.funds.donations import (
    IdempotencyConflict,
    donation_start,
)
from rendao.funds.forms_public import DonationForm, new_form_token
from rendao.funds.models import CoInitiator, Donation, FundraisingProject
from rendao.funds.payments import CHANNEL_LABELS, CheckoutKind, ClientInfo
from rendao.funds.poster import poster_qr, poster_svg, poster_target_url

# The poster changes only with the progress figures: a few minutes stale is fine
# and spares the server when a share goes round a group chat.
POSTER_MAX_AGE = 300
# Service error fields → form fields.
FORM_FIELDS = {"amount_fen": "custom", "attribution": "c", "project_id": "__all__"}


def _project(pk: int) -> FundraisingProject:
    project = selectors.project_get_public(pk=pk)
    if project is None:
        raise Http404(_("There is no such fundraising project."))
    return project


def _partner(project: FundraisingProject, code: str) -> CoInitiator | None:
    """The co-initiator whose link brought the visitor, if the code is this project's."""
    if not code:
        return None
    co = selectors.coinitiator_get_public(code=code)
    return co if co is not None and co.project_id == project.pk else None


@require_GET
def give_list(request: HttpRequest) -> HttpResponse:
    """GET /give/: projects open for donations, then recently closed ones (marked)."""
    today = timezone.localdate()
    return render(
        request,
        "funds/public/give_list.html",
        {"items": selectors.projects_public_list(today=today), "tab": "home"},
    )


# Seconds an anonymous visitor's project page is kept rendered, per project and
# language: a link shared in a group chat brings many visitors at once, and a
# donation shows in "recent donations" at most this much later.
PROJECT_PAGE_CACHE_SECONDS = 10


@require_GET
def give_project(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /give/p/<id>/: the project page; a constant number of queries (tested).

    The page holds nothing personal (no CSRF token, masked names only), so for
    anonymous visitors without a partner link it is served from the cache.
    """
    if request.user.is_authenticated or request.GET.get("c"):
        return _give_project(request, pk)
    key = f"rendao:page:give:{pk}:{get_language()}"
    html = cache.get(key)
    if html is None:
        response = _give_project(request, pk)
        cache.set(key, response.content, PROJECT_PAGE_CACHE_SECONDS)
        return response
    return HttpResponse(html)


def _give_project(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(pk)
    partner = _partner(project, request.GET.get("c", ""))
    suffix = f"?c={partner.attribution_code}" if partner is not None else ""
    context = {
        "project": project,
        "percent": selectors.progress_percent(project.raised_fen, project.target_fen),
        "accepting": selectors.project_accepts_donations(project, today=timezone.localdate()),
        "co_initiators": selectors.project_co_initiators(project=project),
        "recent": selectors.donations_recent(project=project),
        "channel_labels": [str(CHANNEL_LABELS.get(c, c)) for c in project.channels],
        "partner": partner,
        "donate_url": reverse("funds:give_donate", kwargs={"pk": project.pk}) + suffix,
        "poster_url": reverse("funds:give_poster", kwargs={"pk": project.pk}) + suffix,
        "tab": "home",
    }
    return render(request, "funds/public/project.html", context)


@require_GET
def give_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /give/p/<id>/poster.svg: the share poster; ?c=<code> puts the partner into its QR."""
    project = _project(pk)
    partner = _partner(project, request.GET.get("c", ""))
    response = HttpResponse(poster_svg(project, partner), content_type="image/svg+xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=POSTER_MAX_AGE)
    # The poster's words follow the visitor's language.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _client(request: HttpRequest, channel: str) -> ClientInfo:
    """How this visitor can pay: WeChat's in-app JSAPI when we know their openid, H5 on
    a phone, a QR code to scan on a desktop; other channels choose themselves."""
    ip = request.META.get("REMOTE_ADDR") or ""
    if channel != "wechatpay":
        return ClientInfo(ip=ip)
    agent = request.headers.get("User-Agent", "")
    if "MicroMessenger" in agent:
        openid = _wechat_openid(request)
        if openid:
            return ClientInfo(ip=ip, scene="jsapi", openid=openid)
        # Without an openid JSAPI cannot run; the QR code can be long-pressed in WeChat.
        return ClientInfo(ip=ip, scene="native")
    if "Mobile" in agent:
        return ClientInfo(ip=ip, scene="h5")
    return ClientInfo(ip=ip, scene="native")


def _wechat_openid(request: HttpRequest) -> str:
    if not request.user.is_authenticated:
        return ""
    from rendao.core.models import MessagePreference

    pref = MessagePreference.objects.filter(user=request.user).only("wechat_openid").first()
    return (pref.wechat_openid or "") if pref is not None else ""


def _donate_form_page(
    request: HttpRequest,
    project: FundraisingProject,
    form: DonationForm,
    partner: CoInitiator | None,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "funds/public/donate.html",
        {
            "project": project,
            "form": form,
            "partner": partner,
            "min_fen": settings.DONATION_MIN_FEN,
            "max_fen": settings.DONATION_MAX_FEN,
            "tab": "home",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def give_donate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET/POST /give/p/<id>/donate/: the donation form; POST creates the order and pays."""
    project = _project(pk)
    if not selectors.project_accepts_donations(project, today=timezone.localdate()):
        return render(
            request,
            "funds/public/not_open.html",
            {"project": project, "tab": "home"},
            status=200 if request.method == "GET" else 409,
        )
    if request.method == "GET":
        partner = _partner(project, request.GET.get("c", ""))
        initial = {"token": new_form_token(), "c": partner.attribution_code if partner else ""}
        form = DonationForm(initial=initial, project=project)
        return _donate_form_page(request, project, form, partner, 200)

    form = DonationForm(request.POST, project=project)
    partner = _partner(project, request.POST.get("c", ""))
    if not form.is_valid():
        return _donate_form_page(request, project, form, partner, 400)
    user = request.user if request.user.is_authenticated else None
    try:
        donation, _created, checkout = donation_start(
            form.donation_request(),
            client=_client(request, form.cleaned_data["channel"]),
            user=user,
            idempotency_key=form.cleaned_data["token"],
        )
    except IdempotencyConflict:
        # The same form was sent before with other answers (back button, edit,
        # send again): a new token lets this one through as a new donation.
        data = request.POST.copy()
        data["token"] = new_form_token()
        form = DonationForm(data, project=project)
        form.is_valid()
        form.add_error(None, _("This form was already sent for another donation; check it and send again."))
        return _donate_form_page(request, project, form, partner, 400)
    except ValidationError as exc:
        # Nothing was written; the same token makes a new attempt when the donor retries.
        add_service_errors(form, exc, rename=FORM_FIELDS)
        return _donate_form_page(request, project, form, partner, 400)
    follow = reverse("funds:donation_follow", kwargs={"token": donation.follow_token})
    if checkout is None:
        # A repeated submit of a form whose order has been paid (or has expired).
        return HttpResponseRedirect(follow)
    if checkout.kind == CheckoutKind.REDIRECT:
        return HttpResponseRedirect(checkout.url)
    context: dict[str, Any] = {"donation": donation, "project": project, "follow_url": follow, "tab": "home"}
    if checkout.kind == CheckoutKind.QR:
        context["qr_data_uri"] = poster_qr(checkout.url).svg_data_uri(scale=6, border=2)
        response = render(request, "funds/public/pay_qr.html", context)
    else:
        # getBrandWCPayRequest's parameters, read by the static script (no inline script).
        context["params_json"] = json.dumps(dict(checkout.params), sort_keys=True)
        response = render(request, "funds/public/pay_jsapi.html", context)
    # Payment pages carry a one-off order; never cache them.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def give_partner(request: HttpRequest, code: str) -> HttpResponse:
    """GET /give/c/<code>/: a co-initiator's page, with what was given through it."""
    partner = selectors.coinitiator_get_public(code=code)
    if partner is None:
        raise Http404(_("There is no such partner link."))
    project = partner.project
    suffix = f"?c={partner.attribution_code}"
    context = {
        "partner": partner,
        "project": project,
        "percent": selectors.progress_percent(project.raised_fen, project.target_fen),
        "accepting": selectors.project_accepts_donations(project, today=timezone.localdate()),
        "totals": selectors.coinitiator_totals(co_initiator=partner),
        "project_url": reverse("funds:give_project", kwargs={"pk": project.pk}) + suffix,
        "donate_url": reverse("funds:give_donate", kwargs={"pk": project.pk}) + suffix,
        "poster_url": reverse("funds:give_poster", kwargs={"pk": project.pk}) + suffix,
        "share_url": poster_target_url(project, partner),
        "tab": "home",
    }
    return render(request, "funds/public/partner.html", context)


@require_GET
@public_login_required
def give_mine(request: HttpRequest) -> HttpResponse:
    """GET /give/mine/: the signed-in user's donations, each linking to its follow page."""
    from rendao.feedback.selectors import uses_for_donations

    donations: list[Donation] = selectors.donations_of_user(user=cast(User, request.user))
    context = {"donations": donations, "uses": uses_for_donations(donations), "tab": "my"}
    response = render(request, "funds/public/mine.html", context)
    response["Cache-Control"] = "private, no-store"
    return response

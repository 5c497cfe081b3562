"""The public site: home with the service tiles, the service notices, "my" page."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from rendao.core.decorators import is_staff_member, public_login_required
from rendao.core.masking import mask_mobile
from rendao.core.models import Branch
from rendao.core.services_catalogue import SERVICES, get_service, is_live, service_url


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


# Seconds the anonymous home page is kept rendered, per language.
HOME_CACHE_SECONDS = 60


def _home_context() -> dict[str, object]:
    tiles = [{"service": s, "url": service_url(s), "live": is_live(s)} for s in SERVICES]
    return {"tiles": tiles, "tab": "home"}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The page everyone lands on, mostly from a WeChat link.

    For anonymous visitors it holds nothing personal (no CSRF token either: the
    language switch does not need one), so it is rendered once a minute per
    language and served from the cache; no query, no template work.
    """
    if request.user.is_authenticated:
        return render(request, "public/home.html", _home_context())
    key = f"rendao:page:home:{get_language()}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("public/home.html", _home_context(), request=request)
        cache.set(key, html, HOME_CACHE_SECONDS)
    return HttpResponse(html)


# Exempt from CSRF on purpose: it only sets the visitor's own language cookie,
# so a forged request can at worst change the language a page is shown in;
# requiring a token would put a per-visitor token into every public page and
# stop them from being cached.
@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; codes outside settings.LANGUAGES change nothing."""
    if request.POST.get("language") not in dict(settings.LANGUAGES):
        target = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = "/"
        return HttpResponseRedirect(target)
    return i18n.set_language(request)


@require_GET
def service_unavailable(request: HttpRequest, key: str) -> HttpResponse:
    """What a tile of a service not yet online shows: say so, and who to call."""
    service = get_service(key)
    if service is None:
        raise Http404(_("Not found."))
    if is_live(service):
        return HttpResponseRedirect(service_url(service))
    society = Branch.objects.filter(depth=1, is_active=True).order_by("path").first()
    return render(
        request,
        "public/service_unavailable.html",
        {"service": service, "society": society, "tab": "home"},
    )


@require_GET
@public_login_required
def my(request: HttpRequest) -> HttpResponse:
    from rendao.recipients.models import InstitutionMember

    user = request.user
    return render(
        request,
        "public/my.html",
        {
            "masked_mobile": mask_mobile(getattr(user, "mobile", None)),
            "is_staff_member": is_staff_member(user),
            # Representatives of a recipient institution sign off and publish needs at /inst/.
            "represents_institution": InstitutionMember.objects.filter(user_id=user.pk or 0).exists(),
            "tiles": [{"service": s, "url": service_url(s)} for s in SERVICES],
            "tab": "my",
        },
    )


urlpatterns = [
    path("healthz", health, name="health"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", home, name="home"),
    path("services/<slug:key>/", service_unavailable, name="service_unavailable"),
    path("my/", my, name="my"),
]

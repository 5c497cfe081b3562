"""The public "follow my donation" page: receipt number + verification code → follow page.

Thin: the form checks shape, rendao.disclosure.follow decides (and throttles).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rendao.core.audit import RequestMeta
from rendao.core.forms_branches import add_service_errors
from rendao.disclosure.follow import (
    FAILURE_WINDOW,
    FollowKind,
    FollowRefused,
    FollowThrottled,
    donation_follow_by_receipt,
)

_INPUT = "weui-input"


class FollowForm(forms.Form):
    number = forms.CharField(
        label=_("Receipt number"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"class": _INPUT, "autocomplete": "off", "placeholder": "350203-2026-000123"}
        ),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "class": _INPUT,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "placeholder": _("As printed on the receipt"),
            }
        ),
    )


def _page(request: HttpRequest, form: FollowForm, status: int = 200) -> HttpResponse:
    response = render(request, "disclosure/follow.html", {"form": form, "tab": "home"}, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def follow_by_receipt(request: HttpRequest) -> HttpResponse:
    """GET/POST /follow/: find one's donation by the number and code on its receipt."""
    if request.method == "GET":
        return _page(request, FollowForm())
    form = FollowForm(request.POST)
    if not form.is_valid():
        return _page(request, form, 400)
    try:
        result = donation_follow_by_receipt(
            number=form.cleaned_data["number"],
            code=form.cleaned_data["code"],
            meta=RequestMeta.from_request(request),
        )
    except FollowThrottled as exc:
        form.add_error(None, exc)
        response = _page(request, form, 429)
        response["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
        return response
    except FollowRefused as exc:
        form.add_error(None, exc)
        return _page(request, form, 400)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _page(request, form, 400)
    if result.kind == FollowKind.VOIDED:
        # Said only now that the code matched: the donation was refunded.
        response = render(
            request, "disclosure/follow_voided.html", {"result": result, "tab": "home"}, status=200
        )
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    return HttpResponseRedirect(result.follow_url)

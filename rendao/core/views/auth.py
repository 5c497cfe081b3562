"""Sign-in pages: SMS code for the public, password + TOTP for staff, sign-out.

Views parse the form, call one service from rendao.core.services.accounts, and
render or redirect; every decision is in the service.
"""

from __future__ import annotations

from typing import Any

import django_otp
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.forms_auth import PhoneForm, SmsCodeForm, StaffPasswordForm, TotpForm
from rendao.core.middleware import PENDING_STAFF, now_ts, pending_staff_get
from rendao.core.models import User
from rendao.core.services import accounts
from rendao.core.totp import qr_svg_data_uri, secret_for_typing
from rendao.privacy.crypto import VaultError, decrypt, encrypt

# The number a code was just sent to, so the code page can prefill it.
SIGNIN_PHONE = "rendao_signin_phone"
SIGNIN_NEXT = "rendao_signin_next"
# Only one authentication backend is configured; login() is told which explicitly.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    """A same-site redirect target, or `default`: never an open redirect."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _add_errors(form: Any, exc: ValidationError, field: str | None = None) -> None:
    for message in exc.messages:
        form.add_error(field, message)


# --- public: mobile number + SMS code --------------------------------------------


def _signin_phone(request: HttpRequest) -> str:
    """The number a code was just sent to, opened from its sealed form ("" if none)."""
    sealed = request.session.get(SIGNIN_PHONE)
    if not isinstance(sealed, str) or not sealed:
        return ""
    try:
        return decrypt(sealed, aad=SIGNIN_PHONE)
    except VaultError:
        # A session from before the vault, or sealed under a key since dropped.
        return ""


@never_cache
@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """Ask for a mobile number and send it a code."""
    if request.method == "POST":
        form = PhoneForm(request.POST)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            try:
                accounts.sms_code_send(phone=phone, meta=RequestMeta.from_request(request))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                # Sessions are stored signed, not encrypted: the number is kept sealed.
                request.session[SIGNIN_PHONE] = encrypt(phone, aad=SIGNIN_PHONE)
                request.session[SIGNIN_NEXT] = _safe_next(request, request.POST.get("next"), "")
                return redirect("core:signin_verify")
    else:
        form = PhoneForm()
    return render(request, "public/signin.html", {"form": form, "next": request.GET.get("next", "")})


@never_cache
@require_http_methods(["GET", "POST"])
def signin_verify(request: HttpRequest) -> HttpResponse:
    """Take the code and sign in (a first sign-in creates the account)."""
    if request.method == "POST":
        form = SmsCodeForm(request.POST)
        if form.is_valid():
            try:
                user = accounts.sms_code_verify(
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    meta=RequestMeta.from_request(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                target = _safe_next(request, request.session.get(SIGNIN_NEXT), reverse("core:home"))
                # login() keeps the anonymous session's data under a new key;
                # the sign-in leftovers are dropped and the time stamped (signal).
                auth.login(request, user, backend=BACKEND)
                request.session.pop(SIGNIN_PHONE, None)
                request.session.pop(SIGNIN_NEXT, None)
                return HttpResponseRedirect(target)
    else:
        phone = _signin_phone(request)
        if not phone:
            return redirect("core:signin")
        form = SmsCodeForm(initial={"phone": phone})
    return render(request, "public/signin_verify.html", {"form": form})


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("core:home")


# --- staff: password, then TOTP ----------------------------------------------------


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The user of a fresh pending staff sign-in who may still sign in."""
    pending = pending_staff_get(request.session)
    if pending is None:
        return None
    uid = pending.get("uid")
    user = User.objects.filter(pk=uid, is_active=True).first() if isinstance(uid, int) else None
    if user is None:
        request.session.pop(PENDING_STAFF, None)
        return None
    return user, pending


def _start_again(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/signin.html",
        {
            "form": StaffPasswordForm(),
            "next": "",
            "page_errors": [_("Your sign-in was not finished in time. Please sign in again.")],
        },
    )


def _complete_staff_signin(
    request: HttpRequest, user: User, device: Any, pending: dict[str, Any]
) -> HttpResponse:
    target = _safe_next(request, pending.get("next"), reverse("core:workbench"))
    auth.login(request, user, backend=BACKEND)
    django_otp.login(request, device)
    request.session.pop(PENDING_STAFF, None)
    return HttpResponseRedirect(target)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_signin(request: HttpRequest) -> HttpResponse:
    """Username and password: the first of two steps."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST":
        form = StaffPasswordForm(request.POST)
        if form.is_valid():
            try:
                user = accounts.staff_password_check(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    meta=RequestMeta.from_request(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                # A new session key before anything is tied to this account.
                request.session.cycle_key()
                request.session[PENDING_STAFF] = {
                    "uid": user.pk,
                    "at": now_ts(),
                    "next": _safe_next(request, next_url, ""),
                }
                if accounts.has_confirmed_totp(user):
                    return redirect("core:staff_totp")
                return redirect("core:staff_totp_enrol")
    else:
        form = StaffPasswordForm()
    return render(request, "staff/signin.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def staff_totp(request: HttpRequest) -> HttpResponse:
    """The authenticator code: the second step, required of every staff sign-in."""
    found = _pending_user(request)
    if found is None:
        return _start_again(request) if request.method == "POST" else redirect("core:staff_signin")
    user, pending = found
    if not accounts.has_confirmed_totp(user):
        return redirect("core:staff_totp_enrol")
    if request.method == "POST":
        form = TotpForm(request.POST)
        if form.is_valid():
            try:
                device = accounts.staff_totp_verify(
                    user=user, code=form.cleaned_data["code"], meta=RequestMeta.from_request(request)
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return _complete_staff_signin(request, user, device, pending)
    else:
        form = TotpForm()
    return render(request, "staff/totp.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def staff_totp_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in of a staff member without an authenticator: add one."""
    found = _pending_user(request)
    if found is None:
        return _start_again(request) if request.method == "POST" else redirect("core:staff_signin")
    user, pending = found
    if accounts.has_confirmed_totp(user):
        return redirect("core:staff_totp")
    key = pending.get("enrol_key")
    if request.method == "POST":
        form = TotpForm(request.POST)
        if not key:
            return redirect("core:staff_totp_enrol")
        if form.is_valid():
            try:
                device = accounts.totp_enrol_confirm(
                    user=user, key=key, code=form.cleaned_data["code"], meta=RequestMeta.from_request(request)
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return _complete_staff_signin(request, user, device, pending)
    else:
        form = TotpForm()
        if not key:
            # The secret lives in the pending sign-in until confirmed: a reload
            # shows the same one, and nothing is stored before the code matches.
            key = accounts.totp_enrol_start(user=user)
            request.session[PENDING_STAFF] = {**pending, "enrol_key": key}
    uri = str(accounts.totp_device_unsaved(user=user, key=key).config_url)
    return render(
        request,
        "staff/totp_enrol.html",
        {
            "form": form,
            "otpauth_uri": uri,
            "qr_data_uri": qr_svg_data_uri(uri),
            "secret": secret_for_typing(key),
        },
    )


urlpatterns = [
    path("signin/", signin, name="signin"),
    path("signin/code/", signin_verify, name="signin_verify"),
    path("signout/", signout, name="signout"),
    path("staff/signin/", staff_signin, name="staff_signin"),
    path("staff/signin/totp/", staff_totp, name="staff_totp"),
    path("staff/signin/totp/enrol/", staff_totp_enrol, name="staff_totp_enrol"),
]

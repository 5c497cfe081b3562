"""View decorators for the two audiences: signed-in public users and staff."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from rendao.core.models import Membership

V = TypeVar("V", bound=Callable[..., HttpResponse])


def is_staff_member(user: Any) -> bool:
    """Staff are users with at least one membership (or admin-site access)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if "_rendao_is_staff_member" not in user.__dict__:
        user.__dict__["_rendao_is_staff_member"] = (
            user.is_staff or Membership.objects.filter(user=user).exists()
        )
    return bool(user.__dict__["_rendao_is_staff_member"])


def staff_required(view: V) -> V:
    """Signed in, with the second factor verified, and holding a staff role.

    Anonymous users and half-signed-in staff (password done, TOTP not) are sent
    to the staff sign-in; public users get a 403.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_authenticated or not user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("core:staff_signin"))
        if not is_staff_member(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def public_login_required(view: V) -> V:
    """Any signed-in user; others go to the SMS sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]

"""Session limits: the absolute 12-hour limit and the half-finished staff sign-in.

The idle limit needs no code: the session cookie lives SESSION_COOKIE_AGE and is
renewed on every request (SESSION_SAVE_EVERY_REQUEST), and the stored session
expires with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.base import SessionBase
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# When the session's user signed in (Unix seconds), stamped on every sign-in.
SIGNED_IN_AT = "rendao_signed_in_at"
# A staff sign-in whose password matched but whose TOTP step is not done yet:
# {"uid": user id, "at": Unix seconds, "next": URL, "enrol_key": hex (optional)}.
# The user is not signed in while this is all there is.
PENDING_STAFF = "rendao_pending_staff"
# How long the TOTP step may take after the password before starting again.
PENDING_STAFF_SECONDS = 5 * 60


def now_ts() -> float:
    # Through timezone.now() rather than time.time() so tests can move the clock.
    return timezone.now().timestamp()


def stamp_signed_in(session: SessionBase) -> None:
    session[SIGNED_IN_AT] = now_ts()


@receiver(user_logged_in, dispatch_uid="rendao_stamp_signed_in")
def _stamp_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Every way of signing in (SMS, staff TOTP, the admin's own login, test
    # clients' force_login) goes through django.contrib.auth.login, so stamping
    # here means no session is ever missing the stamp and logged out for it.
    session = getattr(request, "session", None)
    if session is not None:
        stamp_signed_in(session)


def pending_staff_get(session: SessionBase) -> dict[str, Any] | None:
    """The pending staff sign-in, if there is one and it is still fresh."""
    pending = session.get(PENDING_STAFF)
    if not isinstance(pending, dict):
        return None
    at = pending.get("at")
    if not isinstance(at, int | float) or not 0 <= now_ts() - at <= PENDING_STAFF_SECONDS:
        return None
    return pending


class SessionLimitsMiddleware:
    """Ends a session 12 hours after sign-in, however active it has been.

    Also drops a stale pending staff sign-in, and empties a session whose user
    can no longer sign in (disabled or deleted) rather than keeping its data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated:
            started = session.get(SIGNED_IN_AT)
            # A missing or unreadable stamp fails closed; a stamp in the future
            # (more than a minute of clock skew) is not trusted either.
            if (
                not isinstance(started, int | float)
                or now_ts() - started > settings.SESSION_ABSOLUTE_SECONDS
                or started - now_ts() > 60
            ):
                logout(request)
        elif SESSION_KEY in session:
            session.flush()
        if PENDING_STAFF in session and pending_staff_get(session) is None:
            del session[PENDING_STAFF]
        return self.get_response(request)

"""How API callers are recognised and rate-limited.

Two ways in, tried in this order on every operation that needs a caller:

- `TokenAuth`: `Authorization: Bearer rdo_<prefix>_<secret>`, a personal access
  token for integrations. The request then acts as the token's user narrowed to
  the token's branch subtree (`rendao.core.scope.TOKEN_BRANCH_ATTR`).
- `SessionAuth`: the browser session of our own pages, with Django's CSRF check
  on unsafe methods. A staff member's session counts only once the second factor
  is verified, as on the staff pages.

Throttles count requests per client IP for anonymous callers and per user for
signed-in ones, in the shared Django cache so that every web process sees the
same counters.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from rendao.core.decorators import is_staff_member
from rendao.core.models import ApiToken, User
from rendao.core.permissions import Perm
from rendao.core.scope import TOKEN_BRANCH_ATTR, has_perm_anywhere
from rendao.core.services.tokens import token_authenticate

# Set on the request when a token authenticated it (the ApiToken row).
REQUEST_TOKEN_ATTR = "rendao_api_token"  # noqa: S105 - an attribute name


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, _("The CSRF check failed: reload the page and try again."))


class TokenAuth(HttpBearer):
    """A personal access token as a Bearer token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = token_authenticate(plaintext=token.strip())
        if api_token is None:
            # A token was presented and is not good: say so rather than fall
            # back to the session, so an integration learns its token is dead.
            raise AuthenticationError(message=_("The access token is invalid, expired or revoked."))
        user: User = api_token.user
        if api_token.branch is not None:
            setattr(user, TOKEN_BRANCH_ATTR, api_token.branch.path)
        # Checked at each use, not only at creation: a user who has since lost
        # every role that allows tokens (within the token's branch) is refused.
        if not has_perm_anywhere(user, Perm.TOKEN_USE):
            raise AuthenticationError(message=_("The access token is invalid, expired or revoked."))
        request.user = user
        setattr(request, REQUEST_TOKEN_ATTR, api_token)
        return user


class SessionAuth(NinjaSessionAuth):
    """The signed-in browser session; CSRF is checked on unsafe methods."""

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> Any:
        user: Any = request.user
        # Without a session there is nothing for a forged request to ride on, so
        # no CSRF check: the caller simply is not authenticated (401, not 403).
        if not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed()
        # Half-signed-in staff (password done, second factor not) get nothing
        # through the API that the staff pages would not give them.
        if is_staff_member(user) and not user.is_verified():
            return None
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
# The default for every operation: integrations first, then our own pages.
TOKEN_OR_SESSION = [token_auth, session_auth]


class _SettingsRateThrottle(SimpleRateThrottle):
    """A ninja rate throttle whose rate is read from settings at each request.

    Reading it late lets tests and operators change the rate without
    re-importing the API; an empty rate switches the throttle off (the HTTP
    benchmark measures the server, not the limiter).
    """

    setting_name = ""

    def __init__(self) -> None:
        super().__init__(rate="1/s")

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, self.setting_name)
        if not rate:
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request)

    def get_ident(self, request: HttpRequest) -> str | None:
        # The address the server saw, as everywhere else in rendao (sign-in
        # throttles, audit rows). X-Forwarded-For is set by the client unless a
        # trusted proxy rewrites it, so it would let anyone dodge the limit.
        return request.META.get("REMOTE_ADDR")


class AnonThrottle(_SettingsRateThrottle):
    """settings.API_ANON_RATE per client IP, for callers without credentials."""

    scope = "anon"
    setting_name = "API_ANON_RATE"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        if isinstance(getattr(request, "auth", None), User):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_SettingsRateThrottle):
    """settings.API_USER_RATE per user, whether by token or by session."""

    scope = "user"
    setting_name = "API_USER_RATE"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        auth = getattr(request, "auth", None)
        if not isinstance(auth, User):
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.pk}


def api_token_of(request: HttpRequest) -> ApiToken | None:
    """The token that authenticated this request, if a token did."""
    token: ApiToken | None = getattr(request, REQUEST_TOKEN_ATTR, None)
    return token

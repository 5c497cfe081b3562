"""The one JSON API, mounted at /api/v1/. Each app contributes its own router.

Conventions every router follows (documented in the OpenAPI description too):

- Authentication: by default an operation needs a caller, by token or session
  (`rendao.core.api_auth`); public reads say `auth=None`.
- Errors always have one shape, `{"error": {"code", "message", "details"?}}`,
  whatever raised them: ninja's own errors, Django's Http404 / PermissionDenied /
  ValidationError from access functions and services, throttling, unknown paths
  and methods. Input that does not match the schema, or that a service rejects,
  is 422 `validation_error` with one `details` entry per problem; a body that is
  not JSON at all is 400 `bad_request`.
- Rate limits: settings.API_ANON_RATE per IP, settings.API_USER_RATE per user;
  429 `rate_limited` with Retry-After.

To add an app's router: `api.add_router("/<prefix>", "rendao.<app>.api.router")`
below, then `rendao manage export_openapi` to refresh docs/openapi.json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import DocsBase

from rendao.approvals.api import router as approvals_router
from rendao.core.api import router as core_router
from rendao.core.api_auth import TOKEN_OR_SESSION, AnonThrottle, CsrfFailed, UserThrottle

logger = logging.getLogger("rendao.api")

SWAGGER_UI_DIR = "vendor/swagger-ui-5.35.0"

# Error codes by HTTP status, for errors raised with a status only.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> HttpResponse:
    """An API error outside a ninja operation (unknown path, wrong method)."""
    return HttpResponse(
        json.dumps(error_body(code, message, details), ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


class SwaggerDocs(DocsBase):
    """Swagger UI served from our vendored static files, under our strict CSP.

    Ninja's own page loads its scripts from a CDN unless ninja is an installed
    app, and inlines its settings; ours loads the vendored bundle and a small
    external start-up script that reads its settings from data attributes.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        context = {
            "api": api,
            "openapi_url": self.get_openapi_url(api, kwargs),
            "swagger_ui_dir": SWAGGER_UI_DIR,
        }
        return render(request, "api/docs.html", context)


class RendaoAPI(NinjaAPI):
    """NinjaAPI whose URLs answer every error in the API's shape.

    Ninja answers a wrong method with a plain-text 405 and an unknown path falls
    through to Django's HTML 404; integrations should never have to parse those.
    """

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_errors(pattern.callback)
        patterns.append(re_path(r"^.*$", _not_found, name="api-not-found"))
        return patterns


def _json_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return _not_found(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = error_response(405, "method_not_allowed", _("This method is not allowed here."))
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, "not_found", _("Not found."))


api = RendaoAPI(
    title="rendao API",
    version="1",
    urls_namespace="api",
    description=(
        "The JSON API of rendao (人道). Public reads need no credentials; staff "
        "integrations use a personal access token (`Authorization: Bearer rdo_…`, created "
        "on the staff page /staff/tokens/), our own pages the signed-in session with its "
        'CSRF token. Every error is `{"error": {"code", "message", "details"?}}`; '
        "input that fails validation is 422 `validation_error`, a body that is not JSON "
        "400 `bad_request`, too many requests 429 `rate_limited` with Retry-After."
    ),
    auth=TOKEN_OR_SESSION,
    throttle=[AnonThrottle(), UserThrottle()],
    docs=SwaggerDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {"loc": list(e.get("loc", ())), "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    return _error(request, 422, "validation_error", _("The request is not valid."), details)


@api.exception_handler(DjangoValidationError)
def _service_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    # Services reject bad input with Django's ValidationError; same shape and
    # status as a schema error so clients handle both alike.
    if hasattr(exc, "error_dict"):
        details = [
            {"loc": ["body", field], "message": str(message), "type": "invalid"}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        details = [{"loc": ["body"], "message": str(m), "type": "invalid"} for m in exc.messages]
    return _error(request, 422, "validation_error", _("The request is not valid."), details)


@api.exception_handler(Http404)
def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # Access functions raise with a translated reason; a bare raise gets ours.
    message = str(exc) or _("You do not have permission to do this.")
    return _error(request, 403, "forbidden", message)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # Ninja raises it with its English default when no credentials came at all.
    message = exc.message if exc.message != "Unauthorized" else _("Sign in or send an access token.")
    response = _error(request, 401, "unauthorized", message)
    response["WWW-Authenticate"] = 'Bearer realm="rendao"'
    return response


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _error(request, 429, "rate_limited", _("Too many requests: slow down and try again later."))
    # Ninja overwrites this with its own estimate when it has one.
    response["Retry-After"] = str(max(1, int(exc.wait or 1)))
    return response


@api.exception_handler(CsrfFailed)
def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
    return _error(request, 403, "csrf_failed", exc.message)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = STATUS_CODES.get(exc.status_code, "error")
    message = exc.message
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        # Ninja's own words for a body that is not JSON; ours are translated.
        message = _("The request body is not valid JSON.")
    return _error(request, exc.status_code, code, message)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with its traceback for the operators; the caller learns nothing
    # about the internals.
    logger.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, "server_error", _("Something went wrong on our side. Try again later."))


def _error(
    request: HttpRequest, status: int, code: str, message: str, details: list[Any] | None = None
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, details), status=status)


@api.get("/health", auth=None, throttle=[], tags=["platform"], summary="Liveness check")
def health(request: HttpRequest) -> dict[str, str]:
    """Always answers: for load balancers and the benchmark, so never throttled."""
    return {"status": "ok"}


api.add_router("/", core_router)
api.add_router("/approvals", approvals_router)
api.add_router("/", "rendao.uploads.api.router")
api.add_router("/me", "rendao.privacy.api.router")
api.add_router("/ledger", "rendao.ledger.api.router")
api.add_router("/donations", "rendao.funds.api.router")
api.add_router("/staff/donations", "rendao.funds.api_staff.router")
api.add_router("/staff/disbursements", "rendao.disbursements.api.router")
api.add_router("/staff/bank-statements", "rendao.disbursements.api_statements.router")
api.add_router("/staff/goods/orders", "rendao.goods.api_distribution.orders_router")
api.add_router("/staff/goods/write-offs", "rendao.goods.api_distribution.writeoffs_router")
api.add_router("/staff/goods", "rendao.goods.api.router")
api.add_router("/donations", "rendao.feedback.api.router")
api.add_router("/donations", "rendao.disclosure.api_follow.router")
api.add_router("/staff/institutions", "rendao.recipients.api.staff_router")
api.add_router("/needs", "rendao.recipients.api.public_router")
api.add_router("/open/summary", "rendao.disclosure.api_public.router")
api.add_router("/open", "rendao.disclosure.api_open.router")
api.add_router("/staff/disclosures", "rendao.disclosure.api_staff.router")

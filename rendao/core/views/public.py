from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


urlpatterns = [
    path("healthz", health, name="health"),
    path("", home, name="home"),
]

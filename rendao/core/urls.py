from __future__ import annotations

from django.urls import path

from rendao.core import views

app_name = "core"

urlpatterns = [
    path("healthz", views.health, name="health"),
    path("", views.home, name="home"),
    path("signin/", views.home, name="signin"),
]

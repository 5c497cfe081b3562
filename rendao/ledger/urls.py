"""The static read API, mounted at /ledger/ (C2SP tlog-tiles paths)."""

from __future__ import annotations

from django.urls import path, re_path

from rendao.ledger import views

app_name = "ledger"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("key", views.key, name="key"),
    re_path(r"^tile/entries/(?P<path>.+)$", views.entries, name="entries"),
    re_path(r"^tile/(?P<level>\d{1,2})/(?P<path>.+)$", views.tile, name="tile"),
]

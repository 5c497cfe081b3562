from __future__ import annotations

from django.urls import include, path

app_name = "disclosure"

# One module per part of issue 7, so each can be worked on alone.
urlpatterns = [
    path("", include("rendao.disclosure.urls_public")),
    path("", include("rendao.disclosure.urls_follow")),
    path("", include("rendao.disclosure.urls_open")),
    path("", include("rendao.disclosure.urls_calendar")),
    path("", include("rendao.disclosure.urls_staff")),
]

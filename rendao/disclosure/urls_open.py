from __future__ import annotations

from django.urls import URLPattern, path

from rendao.disclosure import views_open

# Issue 7, open data; the JSON pages are in the API (rendao.disclosure.api_open).
urlpatterns: list[URLPattern] = [
    path("open/data/", views_open.open_data_index, name="open_data"),
    path("open/data/<slug:name>.csv", views_open.open_data_csv, name="open_data_csv"),
]

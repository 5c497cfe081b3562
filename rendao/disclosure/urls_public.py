from __future__ import annotations

from django.urls import URLPattern, path

from rendao.disclosure import views_public

# Included by rendao/disclosure/urls.py under the "disclosure" namespace, at the site root.
urlpatterns: list[URLPattern] = [
    path("open/", views_public.open_society, name="open_society"),
    path("open/days/", views_public.open_society_days, name="open_society_days"),
    path("open/b/<int:pk>/", views_public.open_branch, name="open_branch"),
    path("open/b/<int:pk>/days/", views_public.open_branch_days, name="open_branch_days"),
    path("open/p/<int:pk>/", views_public.open_project, name="open_project"),
    path("open/p/<int:pk>/days/", views_public.open_project_days, name="open_project_days"),
    path("open/p/<int:pk>/donors/", views_public.open_project_donors, name="open_project_donors"),
    path("open/d/<uuid:series>/", views_public.open_disclosure_history, name="open_disclosure_history"),
]

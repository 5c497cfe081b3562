from __future__ import annotations

from django.urls import path

from rendao.funds import views_public

# Included by rendao/funds/urls.py under the "funds" namespace.
urlpatterns = [
    path("give/", views_public.give_list, name="give_list"),
    path("give/mine/", views_public.give_mine, name="give_mine"),
    path("give/p/<int:pk>/", views_public.give_project, name="give_project"),
    path("give/p/<int:pk>/poster.svg", views_public.give_poster, name="give_poster"),
    path("give/p/<int:pk>/donate/", views_public.give_donate, name="give_donate"),
    path("give/c/<str:code>/", views_public.give_partner, name="give_partner"),
]

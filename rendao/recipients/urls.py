from __future__ import annotations

from django.urls import path

from rendao.recipients import views

app_name = "recipients"

urlpatterns = [
    path("staff/institutions/", views.institution_list, name="institution_list"),
    path("staff/institutions/new/", views.institution_create, name="institution_create"),
    path("staff/institutions/<int:pk>/", views.institution_detail, name="institution_detail"),
    path("staff/institutions/<int:pk>/edit/", views.institution_edit, name="institution_edit"),
    path(
        "staff/institutions/<int:pk>/deactivate/", views.institution_deactivate, name="institution_deactivate"
    ),
    path("staff/institutions/<int:pk>/members/", views.member_add, name="member_add"),
    path(
        "staff/institutions/<int:pk>/members/<int:member_pk>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("staff/institutions/<int:pk>/needs/", views.staff_need_publish, name="staff_need_publish"),
    path(
        "staff/institutions/<int:pk>/needs/<int:need_pk>/close/",
        views.staff_need_close,
        name="staff_need_close",
    ),
    path("inst/", views.portal, name="portal"),
    path("inst/<int:pk>/", views.portal_institution, name="portal_institution"),
    path("inst/needs/<int:pk>/close/", views.portal_need_close, name="portal_need_close"),
    path("needs/", views.needs_public, name="needs"),
]

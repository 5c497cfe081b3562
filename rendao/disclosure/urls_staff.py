from __future__ import annotations

from django.urls import path

from rendao.disclosure import views_staff

urlpatterns = [
    path("staff/disclosures/", views_staff.disclosure_list, name="staff_list"),
    path("staff/disclosures/new/", views_staff.disclosure_create, name="staff_create"),
    path("staff/disclosures/<int:pk>/", views_staff.disclosure_detail, name="staff_detail"),
    path("staff/disclosures/<int:pk>/edit/", views_staff.disclosure_edit, name="staff_edit"),
    path("staff/disclosures/<int:pk>/submit/", views_staff.disclosure_submit, name="staff_submit"),
    path("staff/disclosures/<int:pk>/correct/", views_staff.disclosure_correct, name="staff_correct"),
]

from __future__ import annotations

from django.urls import path

from rendao.approvals import views

app_name = "approvals"

urlpatterns = [
    path("staff/approvals/", views.inbox, name="inbox"),
    path("staff/approvals/<int:pk>/", views.detail, name="detail"),
    path("staff/approvals/<int:pk>/decide/", views.decide, name="decide"),
    path("staff/approvals/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("staff/approvals/<int:pk>/revise/", views.matter_revise, name="matter_revise"),
    path("staff/approvals/new/", views.matter_create, name="matter_create"),
    path("staff/approvals/delegations/", views.delegations, name="delegations"),
    path("staff/approvals/delegations/<int:pk>/end/", views.delegation_end, name="delegation_end"),
]

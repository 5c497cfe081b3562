from __future__ import annotations

from django.urls import path

from rendao.disbursements import views_statements as views

app_name = "bank_statements"

urlpatterns = [
    path("staff/bank-statements/", views.statement_list, name="statement_list"),
    path("staff/bank-statements/upload/", views.statement_upload, name="statement_upload"),
    path("staff/bank-statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path(
        "staff/bank-statements/<int:pk>/differences/<int:difference_pk>/resolve/",
        views.difference_resolve,
        name="difference_resolve",
    ),
    path("staff/charity-law/", views.charity_law, name="charity_law"),
]

from __future__ import annotations

from django.urls import path

from rendao.funds import views, views_donations, views_reconciliation
from rendao.funds.urls_pay import urlpatterns as pay_urlpatterns
from rendao.funds.urls_public import urlpatterns as public_urlpatterns

app_name = "funds"

urlpatterns = [
    path("staff/projects/", views.project_list, name="project_list"),
    path("staff/projects/new/", views.project_create, name="project_create"),
    path("staff/projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("staff/projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("staff/projects/<int:pk>/transition/", views.project_transition, name="project_transition"),
    path("staff/projects/<int:pk>/co-initiators/", views.coinitiator_add, name="coinitiator_add"),
]

urlpatterns += [
    path("staff/reconciliation/", views_reconciliation.reconciliation_list, name="reconciliation_list"),
    path(
        "staff/reconciliation/upload/",
        views_reconciliation.reconciliation_upload,
        name="reconciliation_upload",
    ),
    path(
        "staff/reconciliation/<int:pk>/",
        views_reconciliation.reconciliation_detail,
        name="reconciliation_detail",
    ),
]

urlpatterns += [
    path("staff/donations/", views_donations.donation_list, name="donation_list"),
    path("staff/donations/<str:out_trade_no>/", views_donations.donation_detail, name="donation_detail"),
    path(
        "staff/donations/<str:out_trade_no>/refund/", views_donations.donation_refund, name="donation_refund"
    ),
    path("staff/payments/rejections/", views_donations.payment_rejections, name="payment_rejections"),
]

urlpatterns += pay_urlpatterns
urlpatterns += public_urlpatterns

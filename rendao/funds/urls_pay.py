from __future__ import annotations

from django.urls import path

from rendao.funds import views_pay

# Included by rendao/funds/urls.py under the "funds" namespace.
urlpatterns = [
    path("pay/notify/<slug:channel>/", views_pay.notify, name="pay_notify"),
    path("pay/sandbox/<slug:out_trade_no>/", views_pay.sandbox_cashier, name="sandbox_cashier"),
    path("give/d/<str:token>/", views_pay.donation_follow, name="donation_follow"),
    path("give/d/<str:token>/receipt.pdf", views_pay.donation_receipt_pdf, name="donation_receipt_pdf"),
    path("r/<str:number>/<str:check>/", views_pay.receipt_verify, name="receipt_verify"),
]

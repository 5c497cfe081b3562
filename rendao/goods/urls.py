from __future__ import annotations

from django.urls import path

from rendao.goods import views

app_name = "goods"

urlpatterns = [
    path("staff/goods/", views.home, name="home"),
    path("staff/goods/warehouses/new/", views.warehouse_new, name="warehouse_create"),
    path("staff/goods/warehouses/<int:pk>/stock/", views.warehouse_stock, name="warehouse_stock"),
    path("staff/goods/warehouses/<int:pk>/close/", views.warehouse_close_view, name="warehouse_close"),
    path("staff/goods/warehouses/<int:pk>/stocktakes/", views.stocktake_new, name="stocktake_open"),
    path("staff/goods/lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("staff/goods/lots/<int:pk>/transfer/", views.transfer_new, name="transfer_create"),
    path("staff/goods/intakes/", views.intake_list, name="intake_list"),
    path("staff/goods/intakes/new/", views.intake_new, name="intake_create"),
    path("staff/goods/intakes/<int:pk>/", views.intake_detail, name="intake_detail"),
    path("staff/goods/intakes/<int:pk>/receipt.pdf", views.intake_receipt_pdf, name="intake_receipt_pdf"),
    path("staff/goods/stocktakes/<int:pk>/", views.stocktake_detail, name="stocktake_detail"),
    path("staff/goods/stocktakes/<int:pk>/count/", views.stocktake_count_view, name="stocktake_count"),
    path("staff/goods/stocktakes/<int:pk>/close/", views.stocktake_close_view, name="stocktake_close"),
    path(
        "staff/goods/stocktakes/<int:pk>/lines/<int:line_pk>/write-off/",
        views.stocktake_line_write_off,
        name="stocktake_line_write_off",
    ),
    path("r/<str:number>/<str:check>/goods.pdf", views.receipt_public_pdf, name="receipt_public_pdf"),
]

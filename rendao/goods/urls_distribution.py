from __future__ import annotations

from django.urls import path

from rendao.goods import views_distribution as v

app_name = "goods_distribution"

urlpatterns = [
    path("staff/goods/orders/", v.order_list, name="order_list"),
    path("staff/goods/orders/new/", v.order_create, name="order_create"),
    path("staff/goods/orders/<int:pk>/", v.order_detail, name="order_detail"),
    path("staff/goods/orders/<int:pk>/issue/", v.order_issue, name="order_issue"),
    path("staff/goods/orders/<int:pk>/signoff-form/", v.order_signoff_upload, name="order_signoff_upload"),
    path("staff/goods/orders/<int:pk>/close/", v.order_close, name="order_close"),
    path("staff/goods/write-offs/", v.writeoff_list, name="writeoff_list"),
    path("staff/goods/write-offs/new/", v.writeoff_create, name="writeoff_create"),
    path("staff/goods/write-offs/<int:pk>/", v.writeoff_detail, name="writeoff_detail"),
    path("inst/goods/<str:token>/", v.inst_signoff, name="inst_signoff"),
]

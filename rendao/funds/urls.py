from __future__ import annotations

from django.urls import path

from rendao.funds import views
from rendao.funds.urls_pay import urlpatterns as pay_urlpatterns

app_name = "funds"

urlpatterns = [
    path("staff/projects/", views.project_list, name="project_list"),
    path("staff/projects/new/", views.project_create, name="project_create"),
    path("staff/projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("staff/projects/<int:pk>/transition/", views.project_transition, name="project_transition"),
    path("staff/projects/<int:pk>/co-initiators/", views.coinitiator_add, name="coinitiator_add"),
]

urlpatterns += pay_urlpatterns

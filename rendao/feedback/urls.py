from __future__ import annotations

from django.urls import path

from rendao.feedback import views

app_name = "feedback"

urlpatterns = [
    path("give/d/<str:token>/record.pdf", views.record_download_pdf, name="record_pdf"),
    path("give/d/<str:token>/record.json", views.record_download_json, name="record_json"),
]

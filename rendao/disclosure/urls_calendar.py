from __future__ import annotations

from django.urls import path

from rendao.disclosure import views_calendar

urlpatterns = [
    path("staff/disclosures/calendar/", views_calendar.calendar, name="calendar"),
]

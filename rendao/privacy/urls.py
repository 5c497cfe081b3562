from __future__ import annotations

from rendao.privacy import views

app_name = "privacy"

urlpatterns = views.urlpatterns

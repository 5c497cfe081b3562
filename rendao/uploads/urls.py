from __future__ import annotations

from rendao.uploads.views import urlpatterns

app_name = "uploads"

__all__ = ["app_name", "urlpatterns"]

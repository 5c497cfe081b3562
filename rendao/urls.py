from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from rendao.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("ledger/", include("rendao.ledger.urls")),
    path("", include("rendao.approvals.urls")),
    path("", include("rendao.funds.urls")),
    path("", include("rendao.goods.urls_distribution")),
    path("", include("rendao.goods.urls")),
    path("", include("rendao.disbursements.urls")),
    path("", include("rendao.disbursements.urls_statements")),
    path("", include("rendao.recipients.urls")),
    path("", include("rendao.feedback.urls")),
    path("", include("rendao.disclosure.urls")),
    path("", include("rendao.core.urls")),
    path("", include("rendao.uploads.urls")),
    path("", include("rendao.privacy.urls")),
]

from __future__ import annotations

from django.urls import path

from rendao.disclosure import views_follow
from rendao.disclosure.views_cszg import cszg_export_page

# Included by rendao/disclosure/urls.py under the "disclosure" namespace, at the site root.
urlpatterns = [
    path("follow/", views_follow.follow_by_receipt, name="follow"),
    # The 慈善中国 export (rendao.disclosure.cszg) lives here with the other part of this work.
    path("staff/disclosures/cszg/", cszg_export_page, name="cszg_export"),
]

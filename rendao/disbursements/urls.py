from __future__ import annotations

from django.urls import path, re_path

from rendao.disbursements import views

app_name = "disbursements"

# Numbers only (ZB-<year>-<serial>): the other pages under staff/disbursements/
# (bank statements) can then never be taken for a disbursement's number.
NUMBER = r"(?P<number>ZB-\d{4}-\d{6,9})"

urlpatterns = [
    path("staff/disbursements/", views.disbursement_list, name="list"),
    path("staff/disbursements/new/", views.disbursement_create, name="create"),
    re_path(rf"^staff/disbursements/{NUMBER}/$", views.disbursement_detail, name="detail"),
    re_path(rf"^staff/disbursements/{NUMBER}/pay/$", views.disbursement_pay, name="pay"),
    re_path(rf"^staff/disbursements/{NUMBER}/cancel/$", views.disbursement_cancel, name="cancel"),
    re_path(rf"^staff/disbursements/{NUMBER}/resolve/$", views.disbursement_resolve, name="resolve"),
    re_path(
        rf"^staff/disbursements/{NUMBER}/signoff-form/$",
        views.disbursement_signoff_upload,
        name="signoff_upload",
    ),
    path("inst/disbursements/<str:token>/", views.payee_signoff, name="signoff"),
]

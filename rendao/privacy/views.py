"""Pages for a person's consents and data rights ("my" area), and the staff pages
that handle correction and deletion requests.

Every write is a POST with CSRF that calls one service; a refused write shows
the service's translated reason and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import public_login_required, staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.masking import mask_mobile, mask_name
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere
from rendao.privacy import selectors, services
from rendao.privacy.models import ConsentText, DataRequest
from rendao.privacy.purposes import PURPOSE_INFO, Purpose
from rendao.privacy.reveal import pii_reveal

PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    # The decorators let only signed-in users through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


def _purpose(raw: str) -> Purpose:
    if raw not in Purpose.values:
        raise Http404(_("Not found."))
    return Purpose(raw)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- my consents -----------------------------------------------------------------------


@require_GET
@public_login_required
def privacy_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "rows": selectors.consent_overview(user=user),
        "history": list(selectors.consent_history_for(user=user)[:100]),
        "requests": list(selectors.data_requests_for_subject(user=user)[:50]),
        "tab": "my",
    }
    return render(request, "privacy/my_privacy.html", context)


@require_GET
@public_login_required
def consent_detail(request: HttpRequest, purpose: str) -> HttpResponse:
    user = _user(request)
    p = _purpose(purpose)
    live = selectors.consent_live_for(user=user, purpose=p)
    context = {
        "purpose": p,
        "info": PURPOSE_INFO[p],
        # The text the person consented to, if they did; else the one on offer.
        "text": live.text if live else selectors.consent_text_for_display(purpose=p),
        "live": live,
        "tab": "my",
    }
    return render(request, "privacy/consent_detail.html", context)


@require_POST
@public_login_required
def consent_grant_view(request: HttpRequest, purpose: str) -> HttpResponse:
    user = _user(request)
    p = _purpose(purpose)
    text_id = _int_or_none(request.POST.get("text"))
    text = ConsentText.objects.filter(purpose=p, pk=text_id).first() if text_id is not None else None
    if text is None:
        messages.error(
            request, _("The consent text has changed since it was shown. Please read the current text.")
        )
        return redirect("privacy:consent", purpose=p.value)
    try:
        services.consent_grant(subject=user, purpose=p, text=text, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("privacy:consent", purpose=p.value)
    messages.success(request, _("Thank you: your consent is recorded. You can withdraw it here at any time."))
    return redirect("privacy:home")


@require_POST
@public_login_required
def consent_withdraw_view(request: HttpRequest, purpose: str) -> HttpResponse:
    user = _user(request)
    p = _purpose(purpose)
    try:
        services.consent_withdraw(subject=user, purpose=p, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("privacy:consent", purpose=p.value)
    messages.success(request, _("Your consent is withdrawn. We will stop this processing."))
    return redirect("privacy:home")


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


# --- download my data ----------------------------------------------------------------------


@require_POST
@never_cache
@public_login_required
def data_export_view(request: HttpRequest) -> HttpResponse:
    """The person's data as a JSON file. POST: a deliberate, audited act, never a prefetch."""
    user = _user(request)
    data = services.data_export(subject=user, meta=RequestMeta.from_request(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    name = f"rendao-my-data-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- requests -----------------------------------------------------------------------------


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("What to correct"))
    proposed_value = forms.CharField(label=gettext_lazy("The correct value"), max_length=200)
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Anything that helps us check the correction."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["field"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = [("", "—")] + [(key, spec.label) for key, spec in services.CORRECTABLE_FIELDS.items()]


class DeletionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that my account will be closed and cannot be restored."),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )


@require_http_methods(["GET", "POST"])
@public_login_required
def correction_request(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = CorrectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.data_request_submit(
                subject=user,
                kind=DataRequest.Kind.CORRECTION,
                meta=RequestMeta.from_request(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your request is submitted. You can follow it on this page."))
            return redirect("privacy:request", pk=created.pk)
    status = 400 if form.is_bound else 200
    return render(request, "privacy/correction_form.html", {"form": form, "tab": "my"}, status=status)


@require_http_methods(["GET", "POST"])
@public_login_required
def deletion_request(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DeletionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.data_request_submit(
                subject=user,
                kind=DataRequest.Kind.DELETION,
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your request is submitted. You can follow it on this page."))
            return redirect("privacy:request", pk=created.pk)
    status = 400 if form.is_bound else 200
    return render(request, "privacy/deletion_form.html", {"form": form, "tab": "my"}, status=status)


@require_GET
@public_login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    req = selectors.data_request_get_for_subject(user=user, pk=pk)
    spec = services.CORRECTABLE_FIELDS.get(req.field)
    context = {
        "req": req,
        "field_label": spec.label if spec else req.field,
        "decisions": list(req.decisions.all()),
        "tab": "my",
    }
    return render(request, "privacy/request_detail.html", context)


# --- staff ----------------------------------------------------------------------------------

STATUS_FILTERS = {
    "open": DataRequest.OPEN_STATUSES,
    **{s.value: (s,) for s in DataRequest.Status},
}


def _require_handler(user: User) -> None:
    if not selectors.may_handle_requests(user):
        raise PermissionDenied(_("You do not have permission to handle personal data requests."))


def _subject_label(subject: User) -> str:
    # Staff see the account, masked: the request itself is what they decide on.
    name = mask_name(subject.display_name) if subject.display_name else ""
    return " · ".join(p for p in (f"#{subject.pk}", name, mask_mobile(subject.mobile)) if p)


@require_GET
@staff_required
def staff_requests(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_handler(user)
    qs = selectors.data_requests_for_staff(user=user)
    notices: list[str] = []
    status = request.GET.get("status", "open")
    if status and status not in STATUS_FILTERS:
        notices.append(_("Unknown status filter ignored."))
        status = ""
    if status:
        qs = qs.filter(status__in=STATUS_FILTERS[status])
    number = _int_or_none(request.GET.get("page", "1")) or 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    page = Paginator(qs, PER_PAGE).get_page(number)
    rows = [
        {
            "req": r,
            "subject": _subject_label(r.subject),
            "field_label": _field_label(r.field),
        }
        for r in page.object_list
    ]
    context = {
        "nav": "privacy",
        "rows": rows,
        "page": page,
        "status": status,
        "statuses": [("open", _("Open")), *DataRequest.Status.choices],
        "notices": notices,
    }
    return render(request, "privacy/staff_requests.html", context)


def _field_label(field: str) -> str:
    spec = services.CORRECTABLE_FIELDS.get(field)
    return str(spec.label) if spec else field


@require_GET
@staff_required
def staff_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    req = selectors.data_request_get_for_staff(user=user, pk=pk)
    return render(request, "privacy/staff_request_detail.html", _staff_detail_context(user, req))


def _staff_detail_context(user: User, req: DataRequest, proposed_clear: str | None = None) -> dict[str, Any]:
    spec = services.CORRECTABLE_FIELDS.get(req.field)
    current = spec.current(req.subject) if spec and req.is_open else None
    return {
        "nav": "privacy",
        "req": req,
        "subject": _subject_label(req.subject),
        "field_label": _field_label(req.field),
        # Masked: enough to compare with the person's documents without a
        # screenshot of this page leaking the value.
        "current_masked": spec.mask(current) if spec and current else "",
        "proposed_masked": spec.mask(req.proposed_value) if spec and req.proposed_value else "",
        # The whole proposed value, only after an audited reveal (rendao.privacy.reveal).
        "proposed_clear": proposed_clear,
        "may_reveal": bool(req.proposed_value) and has_perm_anywhere(user, Perm.PII_REVEAL),
        "decisions": list(req.decisions.select_related("actor")),
        "may_review": req.status == DataRequest.Status.SUBMITTED,
        "may_approve": req.status == DataRequest.Status.IN_REVIEW,
        "may_refuse": req.is_open,
        "is_own": req.subject_id == user.pk,
    }


@require_POST
@staff_required
def staff_request_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the proposed value in clear, once, leaving an audit row (never the value)."""
    user = _user(request)
    req = selectors.data_request_get_for_staff(user=user, pk=pk)
    # Public users belong to no branch; their requests are handled at the city
    # society, so that is where the reveal permission must be held.
    society = Branch.objects.filter(depth=1).order_by("path").first()
    if society is None:
        raise Http404(_("Not found."))
    value = pii_reveal(
        actor=user, obj=req, field="proposed_value", branch=society, meta=RequestMeta.from_request(request)
    )
    response = render(request, "privacy/staff_request_detail.html", _staff_detail_context(user, req, value))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def staff_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    req = selectors.data_request_get_for_staff(user=user, pk=pk)
    try:
        services.data_request_transition(
            actor=user,
            request=req,
            to_status=request.POST.get("to_status", ""),
            reason=request.POST.get("reason", ""),
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("privacy:staff_request", pk=req.pk)


urlpatterns: list[URLPattern] = [
    path("my/privacy/", privacy_home, name="home"),
    path("my/privacy/consents/<slug:purpose>/", consent_detail, name="consent"),
    path("my/privacy/consents/<slug:purpose>/grant/", consent_grant_view, name="consent_grant"),
    path("my/privacy/consents/<slug:purpose>/withdraw/", consent_withdraw_view, name="consent_withdraw"),
    path("my/privacy/export/", data_export_view, name="export"),
    path("my/privacy/requests/correction/", correction_request, name="request_correction"),
    path("my/privacy/requests/deletion/", deletion_request, name="request_deletion"),
    path("my/privacy/requests/<int:pk>/", request_detail, name="request"),
    path("staff/privacy/requests/", staff_requests, name="staff_requests"),
    path("staff/privacy/requests/<int:pk>/", staff_request_detail, name="staff_request"),
    path("staff/privacy/requests/<int:pk>/decide/", staff_request_decide, name="staff_request_decide"),
    path("staff/privacy/requests/<int:pk>/reveal/", staff_request_reveal, name="staff_request_reveal"),
]

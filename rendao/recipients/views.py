"""Pages of recipient institutions: staff workbench, the representatives' portal, public needs.

Thin: parse, call rendao.recipients.services (writes) or selectors (reads), render.
Staff pages need RECIPIENTS_MANAGE in scope (an institution out of scope is a 404).
The portal /inst/ is for signed-in public users who represent an institution.
/needs/ is public and holds no personal data.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import public_login_required, staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.masking import mask_mobile
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, has_perm_anywhere
from rendao.core.workbench import branch_initial
from rendao.recipients import selectors, services
from rendao.recipients.forms import InstitutionFilter, InstitutionForm, MemberAddForm, NeedForm
from rendao.recipients.models import Institution, InstitutionMember, NeedStatus

PER_PAGE = 50
PERM = Perm.RECIPIENTS_MANAGE
# Seconds an anonymous visitor's needs page is kept rendered (like the project page).
NEEDS_PAGE_CACHE_SECONDS = 10


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    return number


def _detail(institution: Institution) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("recipients:institution_detail", kwargs={"pk": institution.pk}))


# --- staff ---------------------------------------------------------------------------


@require_GET
@staff_required
def institution_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not has_perm_anywhere(user, PERM):
        raise PermissionDenied(_("Your roles do not let you manage recipient institutions."))
    filters = InstitutionFilter(request.GET or None)
    kind, related, q = "", None, ""
    if filters.is_valid():
        kind = filters.cleaned_data["kind"]
        related = {"yes": True, "no": False}.get(filters.cleaned_data["related"])
        q = filters.cleaned_data["q"].strip()
    qs = selectors.institutions_for_staff(user=user, kind=kind, related_party=related, q=q)
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    rows = [(i, mask_mobile(i.contact_mobile)) for i in page.object_list]
    context = {"nav": "institutions", "page": page, "rows": rows, "filters": filters}
    return render(request, "recipients/institution_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def institution_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    branches = branches_for(user, PERM).filter(is_active=True)
    if not branches.exists():
        raise PermissionDenied(_("Your roles do not let you manage recipient institutions."))
    form = InstitutionForm(request.POST or None, branches=branches, initial=branch_initial(request, branches))
    if request.method == "POST" and form.is_valid():
        try:
            institution = services.institution_create(
                actor=user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The institution has been added."))
            return _detail(institution)
    status = 400 if form.is_bound else 200
    return render(
        request, "recipients/institution_form.html", {"nav": "institutions", "form": form}, status=status
    )


@require_http_methods(["GET", "POST"])
@staff_required
def institution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    branches = branches_for(user, PERM).filter(pk=institution.branch_id)
    initial = {
        "branch": institution.branch_id,
        "name": institution.name,
        "kind": institution.kind,
        "credit_code": institution.credit_code,
        "address": institution.address,
        "contact_name": institution.contact_name,
        "related_party": institution.related_party,
        "related_party_note": institution.related_party_note,
    }
    form = InstitutionForm(request.POST or None, branches=branches, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("branch", None)
        data["contact_mobile"] = data.get("contact_mobile") or None
        try:
            services.institution_update(
                actor=user, institution=institution, meta=RequestMeta.from_request(request), **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The institution has been saved."))
            return _detail(institution)
    status = 400 if form.is_bound else 200
    context = {"nav": "institutions", "form": form, "institution": institution}
    return render(request, "recipients/institution_form.html", context, status=status)


@require_GET
@staff_required
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    context = {
        "nav": "institutions",
        "institution": institution,
        "contact_mobile": mask_mobile(institution.contact_mobile),
        "members": [
            (m, mask_mobile(m.user.mobile)) for m in selectors.institution_members(institution=institution)
        ],
        "needs": selectors.institution_needs(institution=institution),
        "disbursements": selectors.institution_disbursements(institution=institution),
        "orders": selectors.institution_orders(institution=institution),
        "member_form": MemberAddForm(),
        "need_form": NeedForm(),
    }
    return render(request, "recipients/institution_detail.html", context)


@require_POST
@staff_required
def institution_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    try:
        services.institution_deactivate(
            actor=user, institution=institution, meta=RequestMeta.from_request(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The institution is now inactive; its open needs were withdrawn."))
    return _detail(institution)


@require_POST
@staff_required
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the representative's mobile number."))
        return _detail(institution)
    try:
        services.member_add(
            actor=user,
            institution=institution,
            mobile=form.cleaned_data["mobile"],
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The representative has been added."))
    return _detail(institution)


@require_POST
@staff_required
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    member = (
        InstitutionMember.objects.filter(pk=member_pk, institution=institution)
        .select_related("institution")
        .first()
    )
    if member is None:
        raise Http404
    services.member_remove(actor=user, member=member, meta=RequestMeta.from_request(request))
    messages.success(request, _("The representative has been removed."))
    return _detail(institution)


# --- needs (staff and representatives) --------------------------------------------


def _publish(request: HttpRequest, institution: Institution) -> str | None:
    """Publish the posted need; returns an error text, or None when published."""
    form = NeedForm(request.POST)
    if not form.is_valid():
        return " ".join(str(e) for errors in form.errors.values() for e in errors)
    try:
        services.need_publish(
            actor=_user(request),
            institution=institution,
            meta=RequestMeta.from_request(request),
            **form.cleaned_data,
        )
    except ValidationError as exc:
        return " ".join(exc.messages)
    return None


@require_POST
@staff_required
def staff_need_publish(request: HttpRequest, pk: int) -> HttpResponse:
    institution = selectors.institution_get_for_staff(user=_user(request), pk=pk)
    error = _publish(request, institution)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The need has been published."))
    return _detail(institution)


@require_POST
@staff_required
def staff_need_close(request: HttpRequest, pk: int, need_pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_staff(user=user, pk=pk)
    need = institution.needs.filter(pk=need_pk).select_related("institution").first()
    if need is None:
        raise Http404
    _close(request, need)
    return _detail(institution)


def _close(request: HttpRequest, need: object) -> None:
    from rendao.recipients.models import Need

    assert isinstance(need, Need)  # noqa: S101 - narrows the type
    action = request.POST.get("action")
    closer = {"withdraw": services.need_withdraw, "met": services.need_mark_met}.get(action or "")
    if closer is None:
        messages.error(request, _("Choose withdraw or met."))
        return
    try:
        closer(actor=_user(request), need=need, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The need has been closed."))


# --- the representatives' portal /inst/ ---------------------------------------------


@require_GET
@public_login_required
def portal(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    institutions = selectors.institutions_of_representative(user=user)
    if not institutions:
        response = render(request, "recipients/portal_none.html", {"tab": "my"}, status=403)
    else:
        context = {
            "institutions": institutions,
            "awaiting": selectors.awaiting_signoff(user=user),
            "tab": "my",
        }
        response = render(request, "recipients/portal.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@public_login_required
def portal_institution(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    institution = selectors.institution_get_for_representative(user=user, pk=pk)
    form = NeedForm()
    status = 200
    if request.method == "POST":
        form = NeedForm(request.POST)
        error = _publish(request, institution)
        if error is None:
            messages.success(request, _("The need has been published."))
            return HttpResponseRedirect(
                reverse("recipients:portal_institution", kwargs={"pk": institution.pk})
            )
        form.is_valid()
        if not form.errors:
            form.add_error(None, error)
        status = 400
    context = {
        "institution": institution,
        "needs": selectors.institution_needs(institution=institution),
        "form": form,
        "open": NeedStatus.OPEN,
        "tab": "my",
    }
    response = render(request, "recipients/portal_institution.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@public_login_required
def portal_need_close(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_get_for_representative(user=_user(request), pk=pk)
    _close(request, need)
    return HttpResponseRedirect(reverse("recipients:portal_institution", kwargs={"pk": need.institution_id}))


# --- public ------------------------------------------------------------------------


@require_GET
def needs_public(request: HttpRequest) -> HttpResponse:
    """GET /needs/: open needs, soonest deadline first; cached briefly for anonymous visitors."""
    number = _page_number(request)
    if request.user.is_authenticated:
        return _needs_public(request, number)
    key = f"rendao:page:needs:{number}:{get_language()}"
    html = cache.get(key)
    if html is None:
        response = _needs_public(request, number)
        if response.status_code == 200:
            cache.set(key, response.content, NEEDS_PAGE_CACHE_SECONDS)
        return response
    return HttpResponse(html)


def _needs_public(request: HttpRequest, number: int) -> HttpResponse:
    page = Paginator(selectors.needs_public(), PER_PAGE).get_page(number)
    return render(request, "recipients/needs_public.html", {"page": page, "tab": "home"})

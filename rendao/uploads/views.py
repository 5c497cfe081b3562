"""Pages: the staff attachments page (list and upload at the current branch,
delete), and the one URL that serves an attachment's bytes to whoever may read it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core import scope
from rendao.core.audit import RequestMeta
from rendao.core.decorators import is_staff_member, staff_required
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.workbench import current_branch
from rendao.uploads.forms import UploadForm
from rendao.uploads.handlers import skipped_as_too_large
from rendao.uploads.purposes import purpose_label
from rendao.uploads.selectors import attachment_get_for_user, attachment_list_for_branch
from rendao.uploads.services import attachment_create, attachment_delete, attachment_record_read, may_delete
from rendao.uploads.serving import attachment_response
from rendao.uploads.validation import too_large

PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    # staff_required has let only signed-in, verified staff through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


def _page(request: HttpRequest, *, form: UploadForm | None, status: int = 200) -> HttpResponse:
    user = _user(request)
    branch = current_branch(request)
    may_see = scope.has_perm_anywhere(user, Perm.ATTACHMENT_VIEW) or scope.has_perm_anywhere(
        user, Perm.ATTACHMENT_MANAGE
    )
    if branch is None or not may_see:
        raise PermissionDenied(_("Your roles do not include attachments."))
    may_upload = scope.in_scope(user, Perm.ATTACHMENT_MANAGE, branch)
    raw_page = request.GET.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() else 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    page = Paginator(attachment_list_for_branch(user=user, branch=branch), PER_PAGE).get_page(number)
    rows: list[dict[str, Any]] = [
        {"a": a, "purpose": purpose_label(a.purpose), "may_delete": may_delete(user, a)}
        for a in page.object_list
    ]
    context = {
        "nav": "attachments",
        "branch": branch,
        "page": page,
        "rows": rows,
        "form": (form or UploadForm()) if may_upload else None,
    }
    return render(request, "uploads/attachments.html", context, status=status)


@never_cache
@require_GET
@staff_required
def attachment_list(request: HttpRequest) -> HttpResponse:
    return _page(request, form=None)


@require_POST
@staff_required
def attachment_upload(request: HttpRequest) -> HttpResponse:
    """Upload at the current branch; a refusal re-renders the page with the reason."""
    user = _user(request)
    branch = current_branch(request)
    if branch is None or not scope.in_scope(user, Perm.ATTACHMENT_MANAGE, branch):
        raise PermissionDenied(_("You may not upload files at this branch."))
    form = UploadForm(request.POST, request.FILES)
    if skipped_as_too_large(request, "file"):
        # The handler dropped the file while it streamed in: say why it is missing.
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", too_large_message())
    elif form.is_valid():
        try:
            attachment_create(
                actor=user,
                upload=form.cleaned_data["file"],
                purpose=form.cleaned_data["purpose"],
                branch=branch,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            by_field = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for field, errors in by_field.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The file is uploaded."))
            return redirect("uploads:list")
    return _page(request, form=form, status=400)


def too_large_message() -> str:
    return str(too_large(settings.UPLOADS_MAX_BYTES).message_dict["file"][0])


@require_POST
@staff_required
def attachment_delete_view(request: HttpRequest, pk: str) -> HttpResponse:
    user = _user(request)
    attachment = attachment_get_for_user(user=user, pk=pk)
    attachment_delete(actor=user, attachment=attachment, meta=RequestMeta.from_request(request))
    messages.success(request, _("The attachment is deleted."))
    return redirect("uploads:list")


@never_cache
@require_http_methods(["GET", "HEAD"])
def attachment_file(request: HttpRequest, pk: str) -> HttpResponseBase:
    """The bytes, to whoever may read the attachment; 404 to everyone else.

    Staff reach attachments through their roles only once the second factor is
    verified, as on every staff page; until then a half-signed-in staff member
    sees nothing here. `?download=1` downloads an image instead of showing it.
    """
    user: Any = request.user
    if not user.is_authenticated or (is_staff_member(user) and not user.is_verified()):
        raise Http404(_("Not found."))
    attachment = attachment_get_for_user(user=user, pk=pk)
    attachment_record_read(actor=user, attachment=attachment, meta=RequestMeta.from_request(request))
    return attachment_response(attachment, download=request.GET.get("download") == "1")


urlpatterns: list[URLPattern] = [
    path("staff/attachments/", attachment_list, name="list"),
    path("staff/attachments/upload/", attachment_upload, name="upload"),
    path("staff/attachments/<uuid:pk>/delete/", attachment_delete_view, name="delete"),
    path("attachments/<uuid:pk>/", attachment_file, name="file"),
]

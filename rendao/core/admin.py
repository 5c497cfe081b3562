"""The Django admin at /admin/: system configuration only.

Who gets in: active users with `is_staff` (system administrators alone) whose
session has passed the TOTP second factor (django-otp's OTPAdminSite). Each
model then asks for the system permission it needs, held through a membership
like any other permission; Django's own per-model permissions are not used.

What it offers, and why no more:
- roles: edited here, validated by `Role.clean()` (separation of duties,
  read-only roles), every change audited;
- users: read-mostly; only the display name, email and the two access flags
  change, audited; no password hash, no mobile number in lists;
- branches and memberships: shown, not edited. Their writes are business work
  done on the staff pages through `services.branches` and
  `services.memberships` (which the system administrator, holding no business
  permission, may not do); revoking a membership here goes through that service;
- the audit log is not here at all: it is append-only and read by auditors on
  their own pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.masking import mask_mobile
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere
from rendao.core.services.accounts import user_set_active
from rendao.core.services.memberships import membership_revoke


class RendaoAdminSite(OTPAdminSite):  # type: ignore[misc]
    site_header = _("rendao system configuration")
    site_title = _("rendao system configuration")
    index_title = _("System configuration")

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Send everyone through the one staff sign-in.

        The admin's own form would skip the sign-in throttling and audit of the
        staff sign-in page; a signed-in, verified user who is still refused is
        not a system administrator, so asking for a password again is pointless.
        """
        user: Any = request.user
        if user.is_authenticated and user.is_verified():
            if self.has_permission(request):
                response: HttpResponse = super().login(request, extra_context)  # redirects to the index
                return response
            raise PermissionDenied
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("core:staff_signin"))


# django-otp's documented way to guard the default site, which keeps the admin
# registrations of third-party apps (django-otp's own device admin) in place.
admin.site.__class__ = RendaoAdminSite


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Model):
        return value.pk
    return str(value)


class SystemModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A model admin open only to holders of `required_perm`, writes audited."""

    required_perm: Perm = Perm.SYSTEM_CONFIGURE

    def _allowed(self, request: HttpRequest) -> bool:
        user: Any = request.user
        if not (user.is_active and user.is_staff):
            return False
        # The superuser made by `createsuperuser` bootstraps a fresh install,
        # before any role has been granted.
        return bool(user.is_superuser or has_perm_anywhere(user, self.required_perm))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The admin runs the whole change form in one transaction, so the row
        # and its audit event commit together.
        fields = list(form.changed_data)
        before = {f: _jsonable(form.initial.get(f)) for f in fields} if change else None
        super().save_model(request, obj, form, change)
        user: Any = request.user
        audit_record(
            actor=user,
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
            obj=obj,
            before=before,
            after={f: _jsonable(form.cleaned_data.get(f)) for f in fields},
            meta=RequestMeta.from_request(request),
        )


class RoleForm(forms.ModelForm):  # type: ignore[type-arg]
    # Ticked from the fixed list rather than typed as JSON: no misspelt permission.
    permissions = forms.MultipleChoiceField(
        label=_("permissions"),
        choices=Perm.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Role
        fields = ["code", "name", "description", "read_only", "permissions"]


@admin.register(Role)
class RoleAdmin(SystemModelAdmin):
    form = RoleForm
    list_display = ["name", "code", "read_only", "is_builtin"]
    ordering = ["id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Code checks name built-in roles by code; renaming one would orphan them.
        if obj is not None and obj.is_builtin:
            return ["code"]
        return []


@admin.register(Branch)
class BranchAdmin(SystemModelAdmin, TreeAdmin):  # type: ignore[misc]
    form = movenodeform_factory(Branch)
    list_display = ["name", "kind", "division_code", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "division_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(SystemModelAdmin):
    required_perm = Perm.SYSTEM_ACCOUNTS
    list_display = ["username", "display_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["username", "display_name"]
    ordering = ["username"]
    # No password hash, no superuser flag or Django permissions (roles are data),
    # and the mobile number only masked.
    fields = [
        "username",
        "display_name",
        "email",
        "masked_mobile",
        "is_active",
        "is_staff",
        "is_demo",
        "date_joined",
        "last_login",
    ]
    readonly_fields = ["username", "masked_mobile", "is_demo", "date_joined", "last_login"]

    @admin.display(description=_("mobile number"))
    def masked_mobile(self, obj: User) -> str:
        return mask_mobile(obj.mobile)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not (change and "is_active" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # Disabling must end the account's sessions and revoke its tokens at
        # once, which only the service does: route the flag through it.
        wanted = obj.is_active
        obj.is_active = form.initial["is_active"]
        form.changed_data.remove("is_active")
        super().save_model(request, obj, form, change)
        user_set_active(actor=request.user, user=obj, active=wanted, meta=RequestMeta.from_request(request))
        obj.is_active = wanted

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Public users sign up by SMS; staff accounts are made with their TOTP
        # enrolment by `rendao manage`, which a plain form here would skip.
        return False


@admin.register(Membership)
class MembershipAdmin(SystemModelAdmin):
    required_perm = Perm.SYSTEM_ACCOUNTS
    list_display = ["user", "role", "branch", "granted_by", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__display_name", "branch__name"]
    list_select_related = ["user", "role", "branch", "granted_by"]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        user: Any = request.user
        membership_revoke(actor=user, membership=obj, meta=RequestMeta.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        with transaction.atomic():
            for membership in queryset:
                self.delete_model(request, membership)

"""System configuration of approvals: flows are edited here; items are only shown.

Flows are configuration (which role decides what, where, within how long), so
the system administrator edits them, audited like every admin write. Items,
decisions and delegations are business records: read-only here, changed only
through the engine's services on the staff pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from rendao.approvals import registry
from rendao.approvals.models import ApprovalRequest, Decision, Delegation, Flow, FlowStep, Matter
from rendao.core.admin import SystemModelAdmin
from rendao.core.audit import RequestMeta, audit_record


class FlowForm(forms.ModelForm):  # type: ignore[type-arg]
    process_type = forms.ChoiceField(label=Flow._meta.get_field("process_type").verbose_name, choices=())

    class Meta:
        model = Flow
        fields = ["process_type", "branch", "name", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only types some app has registered: a flow for a misspelt key would never apply.
        field = self.fields["process_type"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = registry.choices()


class FlowStepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FlowStep
    extra = 1
    fields = ["position", "role", "level", "min_amount_fen", "hours"]
    ordering = ["position"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(Flow)
class FlowAdmin(SystemModelAdmin):
    form = FlowForm
    inlines = [FlowStepInline]
    list_display = ["name", "process_type", "branch", "is_active", "updated_at"]
    list_filter = ["process_type", "is_active"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        # The steps are the substance of a flow: audit them as a whole, after the change.
        steps = [
            {
                "position": s.position,
                "role": s.role.code,
                "level": s.level,
                "min_amount_fen": s.min_amount_fen,
                "hours": s.hours,
            }
            for s in form.instance.steps.select_related("role").order_by("position")
        ]
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="admin.flow.steps",
            obj=form.instance,
            after={"steps": steps},
            meta=RequestMeta.from_request(request),
        )


class ReadOnlyAdmin(SystemModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "process_type", "branch", "status", "round", "created_at"]
    list_filter = ["process_type", "status"]
    search_fields = ["title"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "round", "outcome", "decided_by", "on_behalf_of", "decided_at"]
    list_filter = ["outcome"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ["from_user", "to_user", "starts_at", "ends_at"]


@admin.register(Matter)
class MatterAdmin(ReadOnlyAdmin):
    list_display = ["title", "branch", "amount_fen", "outcome", "created_at"]

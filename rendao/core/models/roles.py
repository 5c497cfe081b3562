from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from rendao.core.permissions import BUSINESS_PERMS, READ_PERMS, SYSTEM_PERMS, Perm


class Role(models.Model):
    """A named set of permissions, held by staff at a branch through a membership."""

    # Codes of the roles every installation has; seeded by a data migration.
    SYSTEM_ADMIN = "system_admin"
    BRANCH_ADMIN = "branch_admin"
    FINANCE = "finance"
    REVIEWER = "reviewer"
    TRAINING_OFFICER = "training_officer"
    VOLUNTEER_MANAGER = "volunteer_manager"
    AUDITOR = "auditor"
    LEADER = "leader"
    WAREHOUSE_KEEPER = "warehouse_keeper"

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    permissions = models.JSONField(_("permissions"), default=list)
    read_only = models.BooleanField(
        _("read-only"), default=False, help_text=_("May hold only permissions that read.")
    )
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """The role's name in the reader's language.

        Built-in roles have translated names; roles an administrator adds keep
        the name they were given.
        """
        return str(BUILTIN_ROLE_LABELS.get(self.code, self.name)) if self.is_builtin else self.name

    def clean(self) -> None:
        perms = set(self.permissions or [])
        unknown = perms - set(Perm.values)
        if unknown:
            raise ValidationError(
                {"permissions": _("Unknown permissions: %(p)s") % {"p": ", ".join(sorted(unknown))}}
            )
        # Separation of duties (MLPS 等保): system administration and business
        # work never sit in the same role.
        if perms & SYSTEM_PERMS and perms & BUSINESS_PERMS:
            raise ValidationError(
                {"permissions": _("A role cannot mix system administration with business permissions.")}
            )
        if self.read_only and perms - READ_PERMS:
            raise ValidationError({"permissions": _("A read-only role may hold only permissions that read.")})


BUILTIN_ROLE_LABELS = {
    Role.SYSTEM_ADMIN: _("System administrator"),
    Role.BRANCH_ADMIN: _("Branch administrator"),
    Role.FINANCE: _("Finance officer"),
    Role.REVIEWER: _("Reviewer"),
    Role.TRAINING_OFFICER: _("Training officer"),
    Role.VOLUNTEER_MANAGER: _("Volunteer manager"),
    Role.AUDITOR: _("Auditor"),
    Role.LEADER: _("Leader"),
    Role.WAREHOUSE_KEEPER: _("Warehouse keeper"),
}


class Membership(models.Model):
    """A staff member holds a role at a branch; it reaches that branch's subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("branch")
    )
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("role")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "branch", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.branch}"

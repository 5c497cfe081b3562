"""Recipient institutions (受助机构) and the needs they publish.

An institution — a hospital, school, street office, community, welfare home —
receives money (a disbursement's payee) and goods (a distribution order's
recipient). Its representatives are ordinary accounts linked by
`InstitutionMember`: they sign off what arrived and publish what is needed.
Institutions are organisations, so their names are public; the contact person's
mobile is personal data and is sealed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import BlindIndexField, EncryptedTextField


class InstitutionKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital or clinic")
    SCHOOL = "school", _("School")
    STREET_OFFICE = "street_office", _("Street office")
    COMMUNITY = "community", _("Community committee")
    WELFARE = "welfare", _("Welfare home")
    CHARITY = "charity", _("Charitable organisation")
    OTHER = "other", _("Other institution")


class Institution(models.Model):
    """An organisation that receives money or goods from the society."""

    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="institutions", verbose_name=_("branch")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices)
    # 统一社会信用代码 (GB 32100), optional: a street office or community may not show one.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_mobile = EncryptedTextField(_("contact mobile"), blank=True)
    contact_mobile_index = BlindIndexField(source="contact_mobile", purpose="mobile")
    # Charity Law Art 40: a payee related to the society's officers is flagged,
    # its transactions disclosed (issue 7) and watched on the dashboard.
    related_party = models.BooleanField(_("related party (Art 40)"), default=False)
    related_party_note = models.CharField(_("relation"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("recipient institution")
        verbose_name_plural = _("recipient institutions")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="recipients_institution_name_unique"),
            models.CheckConstraint(
                condition=Q(related_party=False) | ~Q(related_party_note=""),
                name="recipients_related_party_explained",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InstitutionMember(models.Model):
    """An account that speaks for an institution: signs off receipts, publishes needs."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="members", verbose_name=_("institution")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="institution_memberships",
        verbose_name=_("account"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by")
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("institution representative")
        verbose_name_plural = _("institution representatives")
        constraints = [
            models.UniqueConstraint(fields=["institution", "user"], name="recipients_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.user_id}"


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MET = "met", _("Met")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Need(models.Model):
    """A structured need published by an institution: item × quantity × deadline."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="needs", verbose_name=_("institution")
    )
    item_name = models.CharField(_("item"), max_length=100)
    specification = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Filled from distribution orders signed off against this need.
    quantity_received = models.PositiveIntegerField(_("quantity received"), default=0)
    deadline = models.DateField(_("needed by"))
    purpose = models.CharField(_("what it is for"), max_length=300)
    status = models.CharField(_("status"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("published by")
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ("deadline", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="recipients_need_quantity_positive"),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="recipients_need_open_idx")]

    def __str__(self) -> str:
        return f"{self.item_name} × {self.quantity}"

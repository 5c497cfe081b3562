from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class Branch(MP_Node):  # type: ignore[misc]
    """A unit of the Red Cross: the city society or a branch under it.

    The tree is a materialized path, so "this branch and everything under it" is
    one `path LIKE 'prefix%'` filter — the basis of every staff access check.
    """

    class Kind(models.TextChoices):
        CITY = "city", _("City society")
        DISTRICT = "district", _("District branch")
        STREET = "street", _("Street or town branch")
        COMMUNITY = "community", _("Community branch")
        INSTITUTION = "institution", _("Institutional branch")

    class InstitutionType(models.TextChoices):
        NONE = "", _("Not an institution")
        GOVERNMENT = "government", _("Government organ")
        SCHOOL = "school", _("School")
        HOSPITAL = "hospital", _("Hospital")
        COMPANY = "company", _("Company")
        OTHER = "other", _("Other institution")

    # 36^4 children per parent is plenty; keeps paths short for prefix indexes.
    steplen = 4

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    institution_type = models.CharField(
        _("institution type"), max_length=16, choices=InstitutionType.choices, blank=True
    )
    division_code = models.CharField(
        _("administrative division code"),
        max_length=12,
        blank=True,
        help_text=_("The 12-digit statistical division code, where the branch has one."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Office location in degrees (WGS-84); six decimals is about 0.1 m.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("office telephone"), max_length=30, blank=True)
    population = models.PositiveIntegerField(
        _("resident population"),
        null=True,
        blank=True,
        help_text=_("Used for coverage rates such as trained first-aiders per 1,000 residents."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="institution", institution_type__gt="")
                    | (~models.Q(kind="institution") & models.Q(institution_type=""))
                ),
                name="branch_institution_type_iff_institution",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90) | models.Q(latitude__isnull=True),
                name="branch_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180)
                | models.Q(longitude__isnull=True),
                name="branch_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

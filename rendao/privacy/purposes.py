"""The purposes for which rendao asks a person's consent (PIPL Art 14, 23, 29, 31).

A purpose is a fixed code, never free text: every consent row, consent text and
`require_consent` call names one of these, so "may we process X for P" can only
be asked about something a person could actually have agreed to. Later issues
add their purposes here (with a migration for the new choice and a data
migration seeding version 1 of its consent text in every language).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    VOLUNTEER_REGISTRATION = "volunteer_registration", _("Volunteer registration")
    HEALTH_DATA = "health_data", _("Health data")
    SHARE_STEM_CELL_REGISTRY = (
        "share_stem_cell_registry",
        _("Sharing with the China Marrow Donor Program (CMDP)"),
    )
    SHARE_ORGAN_REGISTRY = "share_organ_registry", _("Sharing with the organ donation registry")
    SHARE_NATIONAL_VOLUNTEER = (
        "share_national_volunteer",
        _("Sharing with the national volunteer service system"),
    )
    PUBLIC_NOTICE = "public_notice", _("Publishing my name in a public notice")


@dataclass(frozen=True)
class PurposeInfo:
    # Sensitive personal information (PIPL Art 28) needs a separate consent (Art 29).
    sensitive: bool
    # Handing data to another processor needs a separate consent (Art 23).
    third_party: bool


PURPOSE_INFO: dict[str, PurposeInfo] = {
    Purpose.VOLUNTEER_REGISTRATION: PurposeInfo(sensitive=True, third_party=False),
    Purpose.HEALTH_DATA: PurposeInfo(sensitive=True, third_party=False),
    Purpose.SHARE_STEM_CELL_REGISTRY: PurposeInfo(sensitive=True, third_party=True),
    Purpose.SHARE_ORGAN_REGISTRY: PurposeInfo(sensitive=True, third_party=True),
    Purpose.SHARE_NATIONAL_VOLUNTEER: PurposeInfo(sensitive=False, third_party=True),
    Purpose.PUBLIC_NOTICE: PurposeInfo(sensitive=False, third_party=False),
}

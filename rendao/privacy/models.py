from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from rendao.privacy.fields import BlindIndexField, EncryptedTextField
from rendao.privacy.purposes import Purpose


class Identity(models.Model):
    """A person's real-name identity (实名), kept once for every service that needs it.

    Volunteering, first-aid certificates, aid applications and donor registration
    all need the same real name and ID number; keeping them here, encrypted, means
    one place to protect, correct and erase. The birth date is not stored: it is
    read from the ID number when needed, so nothing about a child sits in clear.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="identity",
        verbose_name=_("user"),
    )
    real_name = EncryptedTextField(_("real name"))
    id_number = EncryptedTextField(_("ID card number"))
    id_number_index = BlindIndexField(source="id_number", purpose="id_number", unique=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return f"identity {self.pk}"

    @property
    def birth_date(self) -> dt.date | None:
        return ric.get_birth_date(self.id_number) if self.id_number else None


# --- consent --------------------------------------------------------------------


class ConsentText(models.Model):
    """The exact words a person is shown when asked for consent, per language and version.

    A consent row points at the text it was given to, so what the person agreed
    to can always be shown again word for word. A published text is never edited:
    a change of wording is a new version, and consents given to the old version
    stay attached to it.
    """

    purpose = models.CharField(_("purpose"), max_length=40, choices=Purpose.choices)
    version = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        ordering = ["purpose", "language", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "language", "version"], name="consenttext_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="consenttext_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version} ({self.language})"


class GuardianRelation(models.TextChoices):
    PARENT = "parent", _("Parent")
    GUARDIAN = "guardian", _("Other legal guardian")


class Consent(models.Model):
    """One grant of consent for one purpose, from the grant until its withdrawal.

    Each grant is its own row and rows are never deleted: withdrawing fills
    `withdrawn_at` once, and consenting again later is a new row pointing at the
    text shown then. So the history of a person's consents is simply their rows,
    "is there a live consent" is one indexed lookup, and a database constraint
    allows at most one live consent per person and purpose. (An event table
    would need a "latest event per purpose" query for every check.)

    For a child under 14 (PIPL Art 31) the consent is the guardian's: `guardian`
    and `relation` are set, and the subject's own consent does not count.
    """

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("person"),
    )
    purpose = models.CharField(_("purpose"), max_length=40, choices=Purpose.choices)
    text = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, related_name="consents", verbose_name=_("text shown")
    )
    granted_at = models.DateTimeField(_("granted at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Who withdrew it: the person, their guardian, or staff erasing the account.
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents_as_guardian",
        verbose_name=_("guardian who consented"),
    )
    relation = models.CharField(
        _("relation to the person"), max_length=20, choices=GuardianRelation.choices, blank=True
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_live_per_purpose",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True)
                | models.Q(withdrawn_at__gte=models.F("granted_at")),
                name="consent_withdrawn_after_granted",
            ),
            models.CheckConstraint(
                condition=(models.Q(guardian__isnull=True) & models.Q(relation=""))
                | (models.Q(guardian__isnull=False) & ~models.Q(relation="")),
                name="consent_guardian_has_relation",
            ),
            models.CheckConstraint(
                condition=models.Q(guardian__isnull=True) | ~models.Q(guardian=models.F("subject")),
                name="consent_guardian_not_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk} {self.purpose}"

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


# --- data-subject requests ------------------------------------------------------


class DataRequest(models.Model):
    """A person's request to correct or delete their personal data (PIPL Art 46–47).

    Handled by staff holding `privacy.manage` at the city society: public users
    belong to no branch. The status changes only through
    `rendao.privacy.services.data_request_transition`; each change is a
    `DataRequestDecision` row.
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction")
        DELETION = "deletion", _("Deletion")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")  # waiting for staff to pick it up
        IN_REVIEW = "in_review", _("In review")  # a member of staff is checking it
        DONE = "done", _("Done")  # approved and carried out
        REFUSED = "refused", _("Refused")  # refused, with the reason given to the person

    OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW)

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="data_requests",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("request"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    # Corrections only: which piece of data (a key of CORRECTABLE_FIELDS).
    field = models.CharField(_("what to correct"), max_length=40, blank=True)
    proposed_value = EncryptedTextField(_("proposed value"), blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("submitted at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data request")
        verbose_name_plural = _("personal data requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "in_review", "done", "refused"]),
                name="datarequest_status_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="correction") & ~models.Q(field=""))
                | (models.Q(kind="deletion") & models.Q(field="")),
                name="datarequest_field_iff_correction",
            ),
            models.CheckConstraint(
                condition=(models.Q(status__in=["submitted", "in_review"]) & models.Q(closed_at__isnull=True))
                | (models.Q(status__in=["done", "refused"]) & models.Q(closed_at__isnull=False)),
                name="datarequest_closed_iff_final",
            ),
            # One open request per person and thing asked for: a second click on
            # "delete my account" does not start a second workflow.
            models.UniqueConstraint(
                fields=["subject", "kind", "field"],
                condition=models.Q(status__in=["submitted", "in_review"]),
                name="datarequest_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"data request {self.pk} {self.kind} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class DataRequestDecision(models.Model):
    """One change of a request's status: who, from what, to what, why, when."""

    request = models.ForeignKey(
        DataRequest, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("request")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    from_status = models.CharField(_("status before"), max_length=20, choices=DataRequest.Status.choices)
    to_status = models.CharField(_("status after"), max_length=20, choices=DataRequest.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("decision on a personal data request")
        verbose_name_plural = _("decisions on personal data requests")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(to_status="refused") | ~models.Q(reason=""),
                name="datarequestdecision_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"

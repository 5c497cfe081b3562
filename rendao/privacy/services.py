"""Consent and data-subject rights (PIPL Art 14–15, 23, 29, 31, 44–47).

`require_consent` is the one place every app asks "may we process this person's
data for purpose P" before processing it; `consent_grant` / `consent_withdraw`
record the person's answer. Correction and deletion requests are a state machine
(`TRANSITIONS`, `data_request_transition`); an approved deletion erases or
pseudonymises the person's data while keeping what the law requires.

Audit rows written here name purposes, versions, fields and counts — never a
personal value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.masking import mask_id_number, mask_name
from rendao.core.models import ApiToken, OutboxMessage, User
from rendao.core.services.accounts import _sessions_end
from rendao.privacy import selectors
from rendao.privacy.fields import index_for
from rendao.privacy.models import (
    Consent,
    ConsentText,
    DataRequest,
    DataRequestDecision,
    GuardianRelation,
    Identity,
)
from rendao.privacy.purposes import Purpose
from rendao.privacy.validation import age_on, parse_id_number

# PIPL Art 31: the personal information of a child under 14 is processed with a
# parent's or other guardian's consent.
CHILD_AGE = 14
# A guardian consenting for a child must be an adult on their own ID card.
ADULT_AGE = 18
NOTE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 1000

Status = DataRequest.Status
Kind = DataRequest.Kind


class ConsentRequired(PermissionDenied):
    """Processing refused: no live consent for the purpose (or only a child's own)."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        super().__init__(
            _("This needs your consent to “%(purpose)s”, which we do not have (or which was withdrawn).")
            % {"purpose": Purpose(purpose).label}
        )


# --- consent ---------------------------------------------------------------------


def _purpose_or_error(purpose: str) -> Purpose:
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Unknown purpose.")}, code="unknown_purpose")
    return Purpose(purpose)


def subject_age(user: User, *, today: dt.date | None = None) -> int | None:
    """The person's age from their real-name ID number, or None if we hold none."""
    identity = Identity.objects.filter(user=user).only("id_number").first()
    birth = identity.birth_date if identity is not None else None
    if birth is None:
        return None
    return age_on(birth, today or timezone.localdate())


def _is_child(user: User) -> bool:
    age = subject_age(user)
    return age is not None and age < CHILD_AGE


def _counts(consent: Consent, *, subject: User) -> bool:
    """Whether a live consent counts: a child's own consent does not (Art 31).

    The age is read at each check, not at the grant, so a consent a person
    gave before their ID number showed them to be under 14 stops counting.
    """
    if not subject.is_active:
        return False
    return consent.guardian_id is not None or not _is_child(subject)


def consent_grant(
    *,
    subject: User,
    purpose: str,
    text: ConsentText,
    guardian: User | None = None,
    relation: str = "",
    meta: RequestMeta | None = None,
) -> Consent:
    """Record that `subject` (or, for a child under 14, their `guardian`) consented
    to `purpose` after being shown `text`.

    `text` must be the current version of the purpose's text in its language:
    a person who read an older wording is asked to read the new one.
    """
    purpose = _purpose_or_error(purpose)
    if text.purpose != purpose:
        raise ValidationError({"text": _("This text belongs to another purpose.")}, code="text_purpose")
    current = selectors.consent_text_current(purpose=purpose, language=text.language)
    if current is None or current.pk != text.pk:
        raise ValidationError(
            {
                "text": ValidationError(
                    _("The consent text has changed since it was shown. Please read the current text."),
                    code="text_outdated",
                )
            }
        )
    if not subject.is_active:
        raise ValidationError(_("This account is disabled."), code="inactive")
    actor = guardian or subject
    with transaction.atomic():
        # The subject's row lock serialises grants for one person, so two clicks
        # cannot both pass the "no live consent" check below.
        User.objects.select_for_update().only("pk").get(pk=subject.pk)
        age = subject_age(subject)
        if guardian is None:
            if age is not None and age < CHILD_AGE:
                raise ValidationError(
                    _(
                        "You are under 14: a parent or other guardian must give this consent for you "
                        "(PIPL Art 31)."
                    ),
                    code="guardian_required",
                )
        else:
            _check_guardian(subject=subject, child_age=age, guardian=guardian, relation=relation)
        live = Consent.objects.select_for_update().filter(subject=subject, purpose=purpose, withdrawn_at=None)
        existing = live.first()
        now = timezone.now()
        if existing is not None:
            if _counts(existing, subject=subject):
                raise ValidationError(
                    _("This consent has already been given. Withdraw it first to change it."),
                    code="already_given",
                )
            # A child's own consent, which never counted, is closed by the
            # guardian's so that the one live row is the one that counts.
            existing.withdrawn_at = now
            existing.withdrawn_by = actor
            existing.save(update_fields=["withdrawn_at", "withdrawn_by"])
        consent = Consent(
            subject=subject,
            purpose=purpose,
            text=text,
            granted_at=now,
            guardian=guardian,
            relation=relation if guardian else "",
        )
        consent.full_clean()
        consent.save()
        audit_record(
            actor=actor,
            action="consent.grant",
            obj=consent,
            after={
                "purpose": purpose.value,
                "text_id": text.pk,
                "text_version": text.version,
                "language": text.language,
                "by_guardian": guardian is not None,
                "relation": consent.relation,
                "superseded": existing.pk if existing else None,
            },
            meta=meta,
        )
    return consent


def _check_guardian(*, subject: User, child_age: int | None, guardian: User, relation: str) -> None:
    if relation not in GuardianRelation.values:
        raise ValidationError({"relation": _("Choose the guardian's relation to the child.")})
    if guardian.pk == subject.pk:
        raise ValidationError({"guardian": _("A person cannot be their own guardian.")})
    if not guardian.is_active:
        raise ValidationError({"guardian": _("The guardian's account is disabled.")})
    if child_age is None or child_age >= ADULT_AGE:
        # Without the child's ID number we cannot know a guardian is needed, and
        # an adult consents for themselves.
        raise ValidationError(
            {"guardian": _("A guardian consents only for a minor whose real-name identity we hold.")}
        )
    guardian_age = subject_age(guardian)
    if guardian_age is None or guardian_age < ADULT_AGE:
        raise ValidationError(
            {"guardian": _("The guardian must be an adult whose real-name identity we hold.")}
        )


def consent_withdraw(
    *,
    subject: User,
    purpose: str,
    meta: RequestMeta | None = None,
    actor: User | None = None,
) -> Consent:
    """Withdraw the person's live consent for `purpose` (PIPL Art 15: as easy as giving it).

    `actor` is the person (the default) or the guardian who gave it. The row is
    kept, with the time of withdrawal, as proof of what was agreed and when.
    """
    purpose = _purpose_or_error(purpose)
    actor = actor or subject
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .select_related("text")
            .filter(subject=subject, purpose=purpose, withdrawn_at=None)
            .first()
        )
        if consent is None:
            raise ValidationError(
                _("There is no consent for this purpose to withdraw."), code="nothing_to_withdraw"
            )
        if actor.pk not in (subject.pk, consent.guardian_id):
            raise PermissionDenied(_("Only the person or the guardian who consented can withdraw it."))
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_by = actor
        consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
        audit_record(
            actor=actor,
            action="consent.withdraw",
            obj=consent,
            before={"withdrawn": False},
            after={"purpose": purpose.value, "text_version": consent.text.version, "withdrawn": True},
            meta=meta,
        )
    return consent


def consent_for(*, subject: User, purpose: str) -> Consent | None:
    """The live consent that allows processing `subject`'s data for `purpose`, or None."""
    if purpose not in Purpose.values:
        # A caller naming a purpose nobody can consent to is a bug, not a refusal.
        raise ValueError(f"unknown consent purpose {purpose!r}")
    consent = Consent.objects.filter(subject=subject, purpose=purpose, withdrawn_at=None).first()
    if consent is None or not _counts(consent, subject=subject):
        return None
    return consent


def consent_check(*, subject: User, purpose: str) -> bool:
    """May we process `subject`'s data for `purpose` now? Read fresh on every call."""
    return consent_for(subject=subject, purpose=purpose) is not None


def require_consent(*, subject: User, purpose: str) -> Consent:
    """The live consent for `purpose`, or ConsentRequired (a translated 403).

    Call it immediately before each processing step, not once per workflow: a
    consent withdrawn half-way through stops the next step.
    """
    consent = consent_for(subject=subject, purpose=purpose)
    if consent is None:
        raise ConsentRequired(purpose)
    return consent


# --- corrections -------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectableField:
    """A piece of personal data a person may ask to have corrected.

    `clean` checks and normalises a proposed value (raising a translated
    ValidationError); `current` reads the value held now (None: we hold none,
    so there is nothing to correct); `mask` shows a value to staff; `apply`
    writes it through the service that owns the data, inside the decision's
    transaction, with its own audit row.
    """

    label: str | Promise
    current: Callable[[User], str | None]
    clean: Callable[[str], str]
    mask: Callable[[str], str]
    apply: Callable[..., None]


CORRECTABLE_FIELDS: dict[str, CorrectableField] = {}


def register_correctable_field(key: str, spec: CorrectableField) -> None:
    """Let an app (volunteers, donors…) offer its own data for correction."""
    CORRECTABLE_FIELDS[key] = spec


def _clean_name(value: str, *, max_length: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValidationError({"proposed_value": _("Enter the correct value.")})
    if len(value) > max_length:
        raise ValidationError(
            {"proposed_value": _("At most %(n)d characters.") % {"n": max_length}}, code="too_long"
        )
    if any(ch.isdigit() for ch in value):
        raise ValidationError({"proposed_value": _("A name cannot contain digits.")}, code="digits")
    return value


def _clean_id_number(value: str) -> str:
    try:
        return parse_id_number(value.strip()).number
    except ValidationError as exc:
        raise ValidationError({"proposed_value": exc.messages}) from exc


def _clean_email(value: str) -> str:
    value = value.strip()
    try:
        EmailValidator()(value)
    except ValidationError as exc:
        raise ValidationError({"proposed_value": _("Enter a valid e-mail address.")}) from exc
    return value


def _identity_value(attr: str) -> Callable[[User], str | None]:
    def read(user: User) -> str | None:
        identity = Identity.objects.filter(user=user).first()
        return getattr(identity, attr) if identity is not None else None

    return read


def identity_correct(
    *,
    actor: User,
    identity: Identity,
    real_name: str | None = None,
    id_number: str | None = None,
    meta: RequestMeta | None = None,
) -> Identity:
    """Correct a person's real-name identity; the ID number stays unique (blind index)."""
    changed: list[str] = []
    with transaction.atomic():
        identity = Identity.objects.select_for_update().get(pk=identity.pk)
        if real_name is not None and real_name != identity.real_name:
            identity.real_name = real_name
            changed.append("real_name")
        if id_number is not None and id_number != identity.id_number:
            taken = (
                Identity.objects.filter(id_number_index=index_for("id_number", id_number))
                .exclude(pk=identity.pk)
                .exists()
            )
            if taken:
                raise ValidationError(
                    _("Another account already holds this ID card number; check it with the person."),
                    code="id_taken",
                )
            identity.id_number = id_number
            changed.append("id_number")
        if changed:
            # save() recomputes the blind index with the number.
            identity.save()
            audit_record(
                actor=actor,
                action="identity.correct",
                obj=identity,
                after={"fields": changed},
                meta=meta,
            )
    return identity


def _apply_identity(attr: str) -> Callable[..., None]:
    def apply(*, user: User, value: str, actor: User, meta: RequestMeta | None) -> None:
        identity = Identity.objects.filter(user=user).first()
        if identity is None:
            raise ValidationError(_("We no longer hold a real-name identity for this person."))
        identity_correct(actor=actor, identity=identity, meta=meta, **{attr: value})

    return apply


def _apply_user_field(attr: str) -> Callable[..., None]:
    def apply(*, user: User, value: str, actor: User, meta: RequestMeta | None) -> None:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            setattr(locked, attr, value)
            locked.save(update_fields=[attr])
            audit_record(actor=actor, action="user.correct", obj=locked, after={"fields": [attr]}, meta=meta)

    return apply


def _mask_email(value: str) -> str:
    local, _at, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


register_correctable_field(
    "display_name",
    CorrectableField(
        label=gettext_lazy("Display name"),
        current=lambda user: user.display_name,
        clean=lambda value: _clean_name(value, max_length=100),
        mask=lambda value: value,  # shown on the person's own pages anyway
        apply=_apply_user_field("display_name"),
    ),
)
register_correctable_field(
    "email",
    CorrectableField(
        label=gettext_lazy("E-mail address"),
        current=lambda user: user.email,
        clean=_clean_email,
        mask=_mask_email,
        apply=_apply_user_field("email"),
    ),
)
register_correctable_field(
    "real_name",
    CorrectableField(
        label=gettext_lazy("Real name"),
        current=_identity_value("real_name"),
        clean=lambda value: _clean_name(value, max_length=50),
        mask=mask_name,
        apply=_apply_identity("real_name"),
    ),
)
register_correctable_field(
    "id_number",
    CorrectableField(
        label=gettext_lazy("ID card number"),
        current=_identity_value("id_number"),
        clean=_clean_id_number,
        mask=mask_id_number,
        apply=_apply_identity("id_number"),
    ),
)


# --- data-subject requests -----------------------------------------------------------

# The allowed changes of a request's status. Every one of them is made by a
# holder of privacy.manage at the city society (public users belong to no
# branch), never by the person who asked.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (Status.SUBMITTED, Status.IN_REVIEW),
        (Status.SUBMITTED, Status.REFUSED),
        (Status.IN_REVIEW, Status.DONE),
        (Status.IN_REVIEW, Status.REFUSED),
    }
)


def data_request_submit(
    *,
    subject: User,
    kind: str,
    field: str = "",
    proposed_value: str = "",
    note: str = "",
    meta: RequestMeta | None = None,
) -> DataRequest:
    """A person asks for a correction (field + proposed value) or the deletion of their data."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose correction or deletion.")}, code="unknown_kind")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH}})
    if kind == Kind.CORRECTION:
        spec = CORRECTABLE_FIELDS.get(field)
        if spec is None:
            raise ValidationError({"field": _("Choose what to correct.")}, code="unknown_field")
        current = spec.current(subject)
        if current is None:
            raise ValidationError(
                {"field": _("We hold no such data about you, so there is nothing to correct.")},
                code="nothing_held",
            )
        value = spec.clean(proposed_value or "")
        if value == current:
            raise ValidationError(
                {"proposed_value": _("This is already the value we hold.")}, code="unchanged"
            )
    else:
        if field or proposed_value:
            raise ValidationError(
                {"field": _("A deletion request covers all your data; leave the field empty.")}
            )
        value = ""
    if not subject.is_active:
        raise ValidationError(_("This account is disabled."), code="inactive")
    with transaction.atomic():
        # Serialises one person's submissions, so the "one open request" rule is
        # checked here with a clear message before the constraint would refuse it.
        User.objects.select_for_update().only("pk").get(pk=subject.pk)
        if DataRequest.objects.filter(
            subject=subject, kind=kind, field=field, status__in=DataRequest.OPEN_STATUSES
        ).exists():
            raise ValidationError(
                _("You already have an open request of this kind; please wait for its outcome."),
                code="duplicate",
            )
        request = DataRequest.objects.create(
            subject=subject,
            kind=kind,
            field=field,
            proposed_value=value,
            note=note,
            created_at=timezone.now(),
        )
        audit_record(
            actor=subject,
            action="data_request.submit",
            obj=request,
            after={"kind": kind, "field": field, "status": request.status},
            meta=meta,
        )
    return request


def data_request_transition(
    *,
    actor: User,
    request: DataRequest,
    to_status: str,
    reason: str = "",
    meta: RequestMeta | None = None,
) -> DataRequest:
    """Move a request along `TRANSITIONS`; DONE carries it out in the same transaction.

    The caller fetched `request` through `selectors.data_request_get_for_staff`;
    the permission is checked again here, so no caller can skip it.
    """
    if not selectors.may_handle_requests(actor):
        raise PermissionDenied(_("You do not have permission to handle personal data requests."))
    if request.subject_id == actor.pk:
        raise PermissionDenied(_("You cannot decide a request about your own data."))
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Unknown status.")}, code="unknown_status")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": REASON_MAX_LENGTH}})
    if to_status == Status.REFUSED and not reason:
        raise ValidationError({"reason": _("Give the reason for the refusal; the person will see it.")})
    with transaction.atomic():
        locked = DataRequest.objects.select_for_update().get(pk=request.pk)
        if (locked.status, to_status) not in TRANSITIONS:
            if not locked.is_open:
                raise ValidationError(_("This request is already closed."), code="closed")
            raise ValidationError(_("This change of status is not allowed."), code="bad_transition")
        subject = User.objects.get(pk=locked.subject_id)
        if to_status == Status.DONE:
            if locked.kind == Kind.DELETION:
                account_erase(actor=actor, user=subject, meta=meta, keep_request=locked)
            else:
                spec = CORRECTABLE_FIELDS.get(locked.field)
                if spec is None:
                    raise ValidationError(_("This kind of correction is no longer supported."))
                spec.apply(user=subject, value=locked.proposed_value, actor=actor, meta=meta)
        _record_transition(locked, actor=actor, to_status=to_status, reason=reason, meta=meta)
    request.status = locked.status
    request.closed_at = locked.closed_at
    return locked


def _record_transition(
    request: DataRequest, *, actor: User, to_status: str, reason: str, meta: RequestMeta | None
) -> None:
    before = request.status
    now = timezone.now()
    request.status = to_status
    if to_status in (Status.DONE, Status.REFUSED):
        request.closed_at = now
    request.save(update_fields=["status", "closed_at"])
    DataRequestDecision.objects.create(
        request=request, actor=actor, from_status=before, to_status=to_status, reason=reason, created_at=now
    )
    audit_record(
        actor=actor,
        action="data_request.transition",
        obj=request,
        before={"status": before},
        after={"status": to_status, "kind": request.kind, "field": request.field},
        meta=meta,
    )


# --- erasure --------------------------------------------------------------------------

ErasureHandler = Callable[[User, User], int]

# What other apps hold about a person and must erase or pseudonymise with the
# account: each handler takes (user, actor), runs inside the erasure's
# transaction and returns how many rows it changed. What the law makes us keep
# stays, without the person's identity: donations keep their amounts, dates and
# projects (accounting records are kept 30 years) but lose name and contacts;
# the transparency log already holds only salted commitments, so nothing there
# changes. Register from the app's AppConfig.ready():
#
#     from rendao.privacy.services import register_erasure_handler
#     register_erasure_handler("funds.donations", pseudonymise_donations)
ERASURE_HANDLERS: dict[str, ErasureHandler] = {}


def register_erasure_handler(name: str, handler: ErasureHandler) -> None:
    ERASURE_HANDLERS[name] = handler


def erased_display_name(user: User) -> str:
    # Stored data rather than UI text: the same neutral label in every language.
    return f"已注销用户 #{user.pk}"


def account_erase(
    *,
    actor: User,
    user: User,
    meta: RequestMeta | None = None,
    keep_request: DataRequest | None = None,
) -> dict[str, Any]:
    """Erase or pseudonymise everything personal about `user`; keep what the law requires.

    Erased: mobile number, e-mail, display name (a neutral label instead),
    password and authenticators, the real-name identity, live consents
    (withdrawn), sessions and API tokens, outgoing messages' recipients and
    contents, the text of the person's data requests. Kept: the user row itself
    (other records point at it), audit events (they hold no personal data),
    consent rows (proof of what was agreed, now pointing at a pseudonymous
    account), data requests and their decisions (proof the request was
    honoured), and whatever `ERASURE_HANDLERS` keep. Only called from an
    approved deletion request (`data_request_transition`).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        live = list(Consent.objects.select_for_update().filter(subject=locked, withdrawn_at=None))
        for consent in live:
            consent.withdrawn_at = now
            consent.withdrawn_by = actor
            consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
        identity_deleted, _detail = Identity.objects.filter(user=locked).delete()
        locked.mobile = None
        locked.email = ""
        locked.display_name = erased_display_name(locked)
        locked.username = f"erased-{locked.pk}"
        locked.set_unusable_password()
        locked.is_active = False
        # A full save, so the mobile number's blind index is cleared with it.
        locked.save()
        TOTPDevice.objects.filter(user=locked).delete()
        tokens = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
        sessions = _sessions_end(locked)
        messages = OutboxMessage.objects.filter(user=locked).update(
            recipient="", recipient_masked="", subject="", body=""
        )
        # The person's other open requests end with the account.
        for other in DataRequest.objects.select_for_update().filter(
            subject=locked, status__in=DataRequest.OPEN_STATUSES
        ):
            if keep_request is not None and other.pk == keep_request.pk:
                continue
            _record_transition(
                other,
                actor=actor,
                to_status=Status.REFUSED,
                reason=str(_("The account was deleted.")),
                meta=meta,
            )
        requests = 0
        for request in DataRequest.objects.filter(subject=locked):
            if request.proposed_value or request.note:
                request.proposed_value = ""
                request.note = ""
                request.save(update_fields=["proposed_value", "note"])
                requests += 1
        handled = {name: handler(locked, actor) for name, handler in ERASURE_HANDLERS.items()}
        summary: dict[str, Any] = {
            "consents_withdrawn": len(live),
            "identity_deleted": bool(identity_deleted),
            "api_access_revoked": tokens,
            "sessions_ended": sessions,
            "messages_erased": messages,
            "requests_erased": requests,
            "handlers": handled,
        }
        audit_record(actor=actor, action="account.erase", obj=locked, after=summary, meta=meta)
    user.is_active = False
    return summary


# --- export ---------------------------------------------------------------------------


def data_export(*, subject: User, meta: RequestMeta | None = None) -> dict[str, Any]:
    """Everything we hold about `subject`, for the person themselves (PIPL Art 45).

    Personal values are in clear — it is the person's own copy — so each export
    is audited (without its content).
    """
    data = selectors.data_export_for(user=subject)
    with transaction.atomic():
        audit_record(
            actor=subject,
            action="privacy.data_export",
            obj=subject,
            after={"sections": sorted(data)},
            meta=meta,
        )
    return data

"""Writes of recipient institutions, their representatives and the needs they publish.

Staff with Perm.RECIPIENTS_MANAGE at an institution's branch (or above) create,
change and deactivate it and add or remove its representatives. A
representative (an `InstitutionMember`: an ordinary public account) publishes,
withdraws and closes the institution's needs; so may the staff who manage it.

Every write checks the actor first, validates everything before changing
anything, runs in one transaction and writes its audit row inside it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from rendao.core.audit import audit_record
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, require_perm
from rendao.privacy.fields import index_for
from rendao.privacy.validation import parse_mobile
from rendao.recipients.models import Institution, InstitutionKind, InstitutionMember, Need, NeedStatus

if TYPE_CHECKING:
    from rendao.core.audit import RequestMeta
    from rendao.core.models import Branch

PERM = Perm.RECIPIENTS_MANAGE
# A typo guard: no institution asks for ten million of anything through this page.
MAX_NEED_QUANTITY = 10_000_000

_LIMITS = {
    "name": 200,
    "address": 300,
    "contact_name": 100,
    "related_party_note": 300,
}


def credit_code_clean(raw: str) -> str:
    """A unified social credit code (GB 32100) checked by python-stdnum, or "" when none is given."""
    value = uscc.compact(raw or "")
    if not value:
        return ""
    try:
        return str(uscc.validate(value))
    except StdnumError:
        raise ValidationError(
            {
                "credit_code": _(
                    "This is not a valid unified social credit code (18 characters, check digit)."
                )
            },
            code="bad_credit_code",
        ) from None


def _clean_institution(
    *,
    name: str,
    kind: str,
    credit_code: str,
    address: str,
    contact_name: str,
    contact_mobile: str,
    related_party: bool,
    related_party_note: str,
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    texts = {
        "name": (name or "").strip(),
        "address": (address or "").strip(),
        "contact_name": (contact_name or "").strip(),
        "related_party_note": (related_party_note or "").strip() if related_party else "",
    }
    for field, value in texts.items():
        if len(value) > _LIMITS[field]:
            errors[field] = _("This is too long (at most %(n)s characters).") % {"n": _LIMITS[field]}
    if not texts["name"]:
        errors["name"] = _("Give the institution's name.")
    if kind not in InstitutionKind.values:
        errors["kind"] = _("Choose a kind of institution from the list.")
    if related_party and not texts["related_party_note"]:
        errors["related_party_note"] = _(
            "Say how the institution is related to the society (Charity Law Art 40)."
        )
    code = ""
    try:
        code = credit_code_clean(credit_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    mobile = ""
    if (contact_mobile or "").strip():
        try:
            mobile = parse_mobile(contact_mobile)
        except ValidationError as exc:
            errors["contact_mobile"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return {
        **texts,
        "kind": kind,
        "credit_code": code,
        "contact_mobile": mobile,
        "related_party": bool(related_party),
    }


def _duplicate_name() -> ValidationError:
    return ValidationError(
        {"name": _("This branch already has an institution of that name.")}, code="duplicate_name"
    )


def institution_create(
    *,
    actor: User,
    branch: Branch,
    name: str,
    kind: str,
    credit_code: str = "",
    address: str = "",
    contact_name: str = "",
    contact_mobile: str = "",
    related_party: bool = False,
    related_party_note: str = "",
    meta: RequestMeta | None = None,
) -> Institution:
    require_perm(actor, PERM, branch)
    if not branch.is_active:
        raise ValidationError({"branch": _("This branch is no longer active.")}, code="inactive_branch")
    data = _clean_institution(
        name=name,
        kind=kind,
        credit_code=credit_code,
        address=address,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        related_party=related_party,
        related_party_note=related_party_note,
    )
    if Institution.objects.filter(branch=branch, name=data["name"]).exists():
        raise _duplicate_name()
    try:
        with transaction.atomic():
            institution = Institution.objects.create(branch=branch, **data)
            audit_record(
                actor=actor,
                action="recipients.institution_created",
                obj=institution,
                branch=branch,
                after=_audit_view(institution),
                meta=meta,
            )
    except IntegrityError:
        # Another request created the same name in between.
        raise _duplicate_name() from None
    return institution


def _audit_view(institution: Institution) -> dict[str, Any]:
    # The contact mobile is never written to the audit log, only whether there is one.
    return {
        "name": institution.name,
        "kind": institution.kind,
        "credit_code": institution.credit_code,
        "contact_name": institution.contact_name,
        "has_contact_mobile": bool(institution.contact_mobile),
        "related_party": institution.related_party,
        "related_party_note": institution.related_party_note,
        "is_active": institution.is_active,
    }


def institution_update(
    *,
    actor: User,
    institution: Institution,
    name: str,
    kind: str,
    credit_code: str = "",
    address: str = "",
    contact_name: str = "",
    contact_mobile: str | None = None,
    related_party: bool = False,
    related_party_note: str = "",
    meta: RequestMeta | None = None,
) -> Institution:
    """Change an institution; `contact_mobile=None` keeps the sealed number as it is.

    A change of the related-party flag gets an audit row of its own
    (recipients.related_party_changed), which the Art 40 disclosure reads.
    """
    require_perm(actor, PERM, institution.branch)
    keep_mobile = contact_mobile is None
    data = _clean_institution(
        name=name,
        kind=kind,
        credit_code=credit_code,
        address=address,
        contact_name=contact_name,
        contact_mobile="" if keep_mobile else (contact_mobile or ""),
        related_party=related_party,
        related_party_note=related_party_note,
    )
    if keep_mobile:
        data.pop("contact_mobile")
    if (
        Institution.objects.filter(branch_id=institution.branch_id, name=data["name"])
        .exclude(pk=institution.pk)
        .exists()
    ):
        raise _duplicate_name()
    try:
        with transaction.atomic():
            locked = Institution.objects.select_for_update().get(pk=institution.pk)
            before = _audit_view(locked)
            flag_before = locked.related_party
            for field, value in data.items():
                setattr(locked, field, value)
            locked.save()
            after = _audit_view(locked)
            audit_record(
                actor=actor,
                action="recipients.institution_updated",
                obj=locked,
                branch=locked.branch,
                before=before,
                after=after,
                meta=meta,
            )
            if flag_before != locked.related_party:
                audit_record(
                    actor=actor,
                    action="recipients.related_party_changed",
                    obj=locked,
                    branch=locked.branch,
                    before={"related_party": flag_before, "related_party_note": before["related_party_note"]},
                    after={
                        "related_party": locked.related_party,
                        "related_party_note": locked.related_party_note,
                    },
                    meta=meta,
                )
    except IntegrityError:
        raise _duplicate_name() from None
    return locked


def institution_deactivate(
    *, actor: User, institution: Institution, meta: RequestMeta | None = None
) -> Institution:
    """Stop using an institution: no new payments or orders to it, its open needs withdrawn.

    The row stays (past disbursements and orders point to it).
    """
    require_perm(actor, PERM, institution.branch)
    with transaction.atomic():
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        if not locked.is_active:
            raise ValidationError(_("This institution is already inactive."), code="inactive")
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        withdrawn = Need.objects.filter(institution=locked, status=NeedStatus.OPEN).update(
            status=NeedStatus.WITHDRAWN, closed_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="recipients.institution_deactivated",
            obj=locked,
            branch=locked.branch,
            before={"is_active": True},
            after={"is_active": False, "needs_withdrawn": withdrawn},
            meta=meta,
        )
    return locked


# --- representatives -------------------------------------------------------------


def member_add(
    *, actor: User, institution: Institution, mobile: str, meta: RequestMeta | None = None
) -> InstitutionMember:
    """Make the account signed in with `mobile` a representative of the institution.

    Only staff who manage the institution get this far (the permission is
    checked before the number is looked at), so only they learn whether a
    number has an account. A number without one is refused with what to do:
    the person signs in once on the public site by SMS, then staff add them.
    """
    require_perm(actor, PERM, institution.branch)
    if not institution.is_active:
        raise ValidationError(_("This institution is inactive."), code="inactive")
    try:
        e164 = parse_mobile(mobile)
    except ValidationError as exc:
        raise ValidationError({"mobile": exc.messages[0]}, code="invalid_phone") from None
    user = User.objects.filter(mobile_index=index_for("mobile", e164)).first()
    if user is None or not user.is_active:
        raise ValidationError(
            {
                "mobile": _(
                    "No account uses this number yet. Ask the person to sign in once on the public "
                    "site with this number (by SMS code), then add them again."
                )
            },
            code="no_account",
        )
    if InstitutionMember.objects.filter(institution=institution, user=user).exists():
        raise ValidationError(
            {"mobile": _("This person already represents the institution.")}, code="already_member"
        )
    try:
        with transaction.atomic():
            member = InstitutionMember.objects.create(institution=institution, user=user, added_by=actor)
            audit_record(
                actor=actor,
                action="recipients.member_added",
                obj=member,
                branch=institution.branch,
                after={"institution": institution.pk, "user": user.pk},
                meta=meta,
            )
    except IntegrityError:
        raise ValidationError(
            {"mobile": _("This person already represents the institution.")}, code="already_member"
        ) from None
    return member


def member_remove(*, actor: User, member: InstitutionMember, meta: RequestMeta | None = None) -> None:
    institution = member.institution
    require_perm(actor, PERM, institution.branch)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="recipients.member_removed",
            obj=member,
            branch=institution.branch,
            before={"institution": institution.pk, "user": member.user_id},
            meta=meta,
        )
        member.delete()


# --- needs -------------------------------------------------------------------------


def may_speak_for(user: User, institution: Institution) -> bool:
    """A representative of the institution, or staff who manage it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if InstitutionMember.objects.filter(institution=institution, user=user).exists():
        return True
    return in_scope(user, PERM, institution.branch)


def _require_speaker(user: User, institution: Institution) -> None:
    if not may_speak_for(user, institution):
        raise PermissionDenied(_("Only the institution's representatives or its managing staff may do this."))


def need_publish(
    *,
    actor: User,
    institution: Institution,
    item_name: str,
    unit: str,
    quantity: int,
    deadline: date,
    purpose: str,
    specification: str = "",
    meta: RequestMeta | None = None,
) -> Need:
    """Publish a need (item × quantity × deadline); it is public at once on /needs/."""
    _require_speaker(actor, institution)
    if not institution.is_active:
        raise ValidationError(_("This institution is inactive."), code="inactive")
    errors: dict[str, str] = {}
    texts = {
        "item_name": ((item_name or "").strip(), 100, _("Say what is needed.")),
        "specification": ((specification or "").strip(), 100, ""),
        "unit": ((unit or "").strip(), 20, _("Give the unit (box, piece, set…).")),
        "purpose": ((purpose or "").strip(), 300, _("Say what it is for.")),
    }
    for field, (value, limit, required) in texts.items():
        if required and not value:
            errors[field] = required
        elif len(value) > limit:
            errors[field] = _("This is too long (at most %(n)s characters).") % {"n": limit}
    if type(quantity) is not int or not 0 < quantity <= MAX_NEED_QUANTITY:
        errors["quantity"] = _("The quantity must be a whole number above zero.")
    if not isinstance(deadline, date):
        errors["deadline"] = _("Give the date by which it is needed.")
    elif deadline < timezone.localdate():
        errors["deadline"] = _("The date by which it is needed cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        need = Need.objects.create(
            institution=institution,
            item_name=texts["item_name"][0],
            specification=texts["specification"][0],
            unit=texts["unit"][0],
            quantity=quantity,
            deadline=deadline,
            purpose=texts["purpose"][0],
            published_by=actor,
        )
        audit_record(
            actor=actor,
            action="recipients.need_published",
            obj=need,
            branch=institution.branch,
            after={
                "institution": institution.pk,
                "item": need.item_name,
                "quantity": need.quantity,
                "deadline": need.deadline.isoformat(),
            },
            meta=meta,
        )
    return need


def _need_close(*, actor: User, need: Need, to: NeedStatus, action: str, meta: RequestMeta | None) -> Need:
    institution = need.institution
    _require_speaker(actor, institution)
    with transaction.atomic():
        locked = Need.objects.select_for_update().get(pk=need.pk)
        if locked.status != NeedStatus.OPEN:
            raise ValidationError(_("Only an open need can be closed."), code="not_open")
        locked.status = to
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action=action,
            obj=locked,
            branch=institution.branch,
            before={"status": NeedStatus.OPEN},
            after={"status": to},
            meta=meta,
        )
    return locked


def need_withdraw(*, actor: User, need: Need, meta: RequestMeta | None = None) -> Need:
    return _need_close(
        actor=actor, need=need, to=NeedStatus.WITHDRAWN, action="recipients.need_withdrawn", meta=meta
    )


def need_mark_met(*, actor: User, need: Need, meta: RequestMeta | None = None) -> Need:
    return _need_close(actor=actor, need=need, to=NeedStatus.MET, action="recipients.need_met", meta=meta)

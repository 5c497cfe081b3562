"""Reads of consents and data-subject requests, always for a given user.

A person reaches only their own consents and requests (someone else's id is a
404, as if absent). Staff reach requests only with `privacy.manage` held at the
city society: public users belong to no branch, so their requests are the
city's, like the outbox's branchless messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core import inbox, scope
from rendao.core.masking import mask_id_number, mask_mobile, mask_name
from rendao.core.models import ApiToken, AuditEvent, Branch, Membership, OutboxMessage
from rendao.core.permissions import Perm
from rendao.privacy.models import Consent, ConsentText, DataRequest, Identity
from rendao.privacy.purposes import PURPOSE_INFO, Purpose

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User


# --- consent texts -------------------------------------------------------------------


def consent_language(language: str | None = None) -> str:
    """The consent-text language for a UI language ("en-us" → "en"), else the default."""
    codes = [code for code, _name in settings.LANGUAGES]
    lang = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    if lang in codes:
        return lang
    base = lang.split("-")[0]
    return base if base in codes else settings.LANGUAGE_CODE


def consent_text_current(*, purpose: str, language: str) -> ConsentText | None:
    """The latest published version of the purpose's text in `language`."""
    return (
        ConsentText.objects.filter(purpose=purpose, language=language, published_at__lte=timezone.now())
        .order_by("-version")
        .first()
    )


def consent_text_for_display(*, purpose: str, language: str | None = None) -> ConsentText | None:
    """The text to show: in the reader's language, else in the default language."""
    lang = consent_language(language)
    text = consent_text_current(purpose=purpose, language=lang)
    if text is None and lang != settings.LANGUAGE_CODE:
        text = consent_text_current(purpose=purpose, language=settings.LANGUAGE_CODE)
    return text


@dataclass(frozen=True)
class ConsentRow:
    purpose: Purpose
    live: Consent | None
    text: ConsentText | None
    sensitive: bool
    third_party: bool


def consent_overview(*, user: User, language: str | None = None) -> list[ConsentRow]:
    """Every purpose with the person's live consent (if any) and the text to show: two queries."""
    lang = consent_language(language)
    live = {
        c.purpose: c
        for c in Consent.objects.filter(subject=user, withdrawn_at=None).select_related("text", "guardian")
    }
    texts: dict[str, ConsentText] = {}
    now = timezone.now()
    # Newest version first: the first text seen per purpose wins, in the reader's
    # language before the default one.
    for text in ConsentText.objects.filter(
        language__in={lang, settings.LANGUAGE_CODE}, published_at__lte=now
    ).order_by("-version"):
        held = texts.get(text.purpose)
        if held is None or (held.language != lang and text.language == lang):
            texts[text.purpose] = text
    return [
        ConsentRow(
            purpose=purpose,
            live=live.get(purpose.value),
            text=texts.get(purpose.value),
            sensitive=PURPOSE_INFO[purpose].sensitive,
            third_party=PURPOSE_INFO[purpose].third_party,
        )
        for purpose in Purpose
    ]


def consent_live_for(*, user: User, purpose: str) -> Consent | None:
    """The person's live consent row for a purpose, whether or not it counts (see services)."""
    return (
        Consent.objects.filter(subject=user, purpose=purpose, withdrawn_at=None)
        .select_related("text", "guardian")
        .first()
    )


def consent_history_for(*, user: User) -> QuerySet[Consent]:
    """The person's consents, live and withdrawn, newest first, with the text given to."""
    return (
        Consent.objects.filter(subject=user)
        .select_related("text", "guardian", "withdrawn_by")
        .order_by("-granted_at", "-id")
    )


# --- data-subject requests -------------------------------------------------------------


def data_requests_for_subject(*, user: User) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(subject=user).order_by("-created_at", "-id")


def data_request_get_for_subject(*, user: User, pk: int | str) -> DataRequest:
    """One of the person's own requests; anyone else's is a 404."""
    try:
        return data_requests_for_subject(user=user).get(pk=pk)
    except (DataRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


def _reaches_root(paths: list[str]) -> bool:
    # A root branch's path is exactly one step of the materialized path.
    return any(len(p) == Branch.steplen for p in paths)


def may_handle_requests(user: User | AnonymousUser) -> bool:
    """Holds privacy.manage at the city society (the root of the branch tree)."""
    return _reaches_root(scope.scope_paths(user, Perm.PRIVACY_MANAGE))


def data_requests_for_staff(*, user: User | AnonymousUser) -> QuerySet[DataRequest]:
    """Every request, for a handler; nothing for anyone else. Oldest open first."""
    if not may_handle_requests(user):
        return DataRequest.objects.none()
    return DataRequest.objects.select_related("subject").order_by("closed_at", "created_at", "id")


def data_request_get_for_staff(*, user: User | AnonymousUser, pk: int | str) -> DataRequest:
    """One request for a handler, or Http404 (also when the user is not a handler)."""
    try:
        return data_requests_for_staff(user=user).get(pk=pk)
    except (DataRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


@inbox.register("privacy.data_requests")
def data_requests_waiting(user: User, branch: Branch) -> list[inbox.InboxItem]:
    """Open correction and deletion requests, on the city society's workbench."""
    if branch.depth != 1 or not may_handle_requests(user):
        return []
    open_requests = DataRequest.objects.filter(status__in=DataRequest.OPEN_STATUSES).order_by()
    n = open_requests.count()
    if not n:
        return []
    return [
        inbox.InboxItem(
            title=gettext_lazy("Requests about personal data (correction, deletion)"),
            url=f"{reverse('privacy:staff_requests')}?status=open",
            count=n,
        )
    ]


# --- export ---------------------------------------------------------------------------

ExportSection = Callable[["User"], Any]
# Other apps add what they hold about a person (volunteer record, donations,
# course enrolments…) so the download stays "everything we hold about you".
EXPORT_SECTIONS: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    EXPORT_SECTIONS[name] = section


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "mobile": user.mobile,
        "mobile_masked": mask_mobile(user.mobile) or None,
        "email": user.email,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "is_active": user.is_active,
    }


def _identity(user: User) -> dict[str, Any] | None:
    identity = Identity.objects.filter(user=user).first()
    if identity is None:
        return None
    return {
        "real_name": identity.real_name,
        "real_name_masked": mask_name(identity.real_name),
        "id_number": identity.id_number,
        "id_number_masked": mask_id_number(identity.id_number),
        "birth_date": _iso(identity.birth_date),
        "verified_at": _iso(identity.verified_at),
        "created_at": _iso(identity.created_at),
        "updated_at": _iso(identity.updated_at),
    }


def _consent(c: Consent) -> dict[str, Any]:
    return {
        "id": c.pk,
        "purpose": c.purpose,
        "purpose_label": str(Purpose(c.purpose).label),
        "text": {
            "id": c.text.pk,
            "version": c.text.version,
            "language": c.text.language,
            "title": c.text.title,
            "body": c.text.body,
        },
        "granted_at": _iso(c.granted_at),
        "withdrawn_at": _iso(c.withdrawn_at),
        "by_guardian": c.guardian_id is not None,
        "relation": c.relation,
    }


def _consents(user: User) -> list[dict[str, Any]]:
    return [_consent(c) for c in consent_history_for(user=user)]


def _consents_as_guardian(user: User) -> list[dict[str, Any]]:
    # The child is named by account id only: the child's own data is the child's.
    rows = Consent.objects.filter(guardian=user).select_related("text").order_by("-granted_at", "-id")
    return [{**_consent(c), "child_account_id": c.subject_id} for c in rows]


def _memberships(user: User) -> list[dict[str, Any]]:
    rows = Membership.objects.filter(user=user).select_related("branch", "role").order_by("id")
    return [
        {"branch": m.branch.name, "role": m.role.code, "role_name": m.role.label, "since": _iso(m.created_at)}
        for m in rows
    ]


def _data_requests(user: User) -> list[dict[str, Any]]:
    rows = data_requests_for_subject(user=user).prefetch_related("decisions")
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "status": r.status,
            "field": r.field,
            "proposed_value": r.proposed_value,
            "note": r.note,
            "submitted_at": _iso(r.created_at),
            "closed_at": _iso(r.closed_at),
            "decisions": [
                {"from": d.from_status, "to": d.to_status, "reason": d.reason, "at": _iso(d.created_at)}
                for d in r.decisions.all()
            ],
        }
        for r in rows
    ]


def _api_tokens(user: User) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": _iso(t.created_at),
            "expires_at": _iso(t.expires_at),
            "revoked_at": _iso(t.revoked_at),
            "last_used_at": _iso(t.last_used_at),
        }
        for t in ApiToken.objects.filter(user=user).order_by("id")
    ]


def _messages(user: User) -> list[dict[str, Any]]:
    rows = OutboxMessage.objects.filter(user=user).order_by("created_at")
    return [
        {
            "channel": m.channel,
            "kind": m.kind,
            "status": m.status,
            "recipient": m.recipient or m.recipient_masked,
            "subject": m.subject,
            "body": m.body,
            "created_at": _iso(m.created_at),
            "sent_at": _iso(m.sent_at),
        }
        for m in rows
    ]


def _activity(user: User) -> list[dict[str, Any]]:
    """What the person did, from the audit log: the IP address and browser are theirs too."""
    rows = (
        AuditEvent.objects.filter(actor=user)
        .order_by("id")
        .only("created_at", "action", "object_type", "ip", "user_agent")
    )
    return [
        {
            "at": _iso(e.created_at),
            "action": e.action,
            "object_type": e.object_type,
            "ip": e.ip,
            "user_agent": e.user_agent,
        }
        for e in rows
    ]


for _name, _section in (
    ("account", _account),
    ("identity", _identity),
    ("consents", _consents),
    ("consents_given_as_guardian", _consents_as_guardian),
    ("memberships", _memberships),
    ("data_requests", _data_requests),
    ("api_tokens", _api_tokens),
    ("messages", _messages),
    ("activity", _activity),
):
    register_export_section(_name, _section)


def data_export_for(*, user: User) -> dict[str, Any]:
    """Every registered section about `user`, in clear: for the person themselves only."""
    return {
        "format": "rendao.personal-data-export/1",
        "exported_at": timezone.now().isoformat(),
        **{name: section(user) for name, section in EXPORT_SECTIONS.items()},
    }

"""Re-deriving "disclosure_published" leaves from the disclosure rows (`rendao manage ledger_audit`).

Registered from DisclosureConfig.ready(). The leaf names its row by series and
version; the payload is rebuilt with `services.ledger_payload`, and "at" is the
row's published_at (the leaf is logged at that moment), so a changed text,
figure or publication time is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from django.core.exceptions import ValidationError

from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.services import ledger_payload
from rendao.ledger.audit_registry import Gone


def disclosure_published_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    series, version = logged.get("series"), logged.get("version")
    if not isinstance(series, str) or type(version) is not int:
        raise Gone
    try:
        disclosure = (
            Disclosure.objects.select_related("branch", "corrects")
            .filter(series=series, version=version, status=DisclosureStatus.PUBLISHED)
            .first()
        )
    except ValidationError as error:  # a malformed UUID names no row of ours
        raise Gone from error
    if disclosure is None or disclosure.published_at is None:
        raise Gone
    at = disclosure.published_at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {**ledger_payload(disclosure), "at": at}


def register_rederivers() -> None:
    from rendao.ledger.audit_registry import register
    from rendao.ledger.models import EntryKind

    register(EntryKind.DISCLOSURE_PUBLISHED, disclosure_published_now)

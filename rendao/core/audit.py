"""Writing and verifying the audit chain.

Services call `audit_record` inside their own transaction, so a change and its
audit row commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from rendao.core.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from django.http import HttpRequest

    from rendao.core.models import Branch, User

GENESIS = "0" * 64
REDACTED = "[redacted]"
# Field names whose values never enter the audit log, whatever the caller passes:
# exact names, and any name ending in one of the suffixes (e.g. "guardian_mobile").
# Matching is by name, not substring, so "division_code" or "sessions_ended"
# stay readable while "sms_code" and "api_token" do not.
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "mobile",
        "phone",
        "id_number",
        "id_card",
        "secret",
        "token",
        "otp",
        "totp",
        "bank_account",
        "address",
        "email",
        "key",
        "code",
        "sms_code",
        "otp_code",
        "verification_code",
    }
)
SENSITIVE_SUFFIXES = tuple(
    f"_{k}"
    for k in (
        "password",
        "mobile",
        "phone",
        "id_number",
        "id_card",
        "secret",
        "token",
        "bank_account",
        "address",
        "email",
    )
)


def is_sensitive_key(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_KEYS or lowered.endswith(SENSITIVE_SUFFIXES)


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from; None fields for tasks and commands."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest | None) -> RequestMeta:
        if request is None:
            return cls()
        return cls(
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        )


def redact(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Replace values of personal or secret fields by a marker, recursively."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for k, v in values.items():
        if is_sensitive_key(k):
            out[k] = REDACTED
        elif isinstance(v, dict):
            out[k] = redact(v)
        else:
            out[k] = v
    return out


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "id": event.pk,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "branch_id": event.branch_id,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    branch: Branch | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    meta: RequestMeta | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the service's transaction")
    meta = meta or RequestMeta()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    # The head row lock makes appends strictly sequential, so each row's
    # prev_hash is its true predecessor even with concurrent writers (PostgreSQL);
    # SQLite serialises writers already.
    head = AuditHead.objects.select_for_update().get(pk=1)
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        branch=branch,
        before=redact(before),
        after=redact(after),
        ip=meta.ip,
        user_agent=meta.user_agent,
        prev_hash=head.last_hash,
    )
    # The id is part of the hash, so it comes from the locked head rather than
    # the table's sequence: the row is written by one INSERT and never updated.
    event.pk = head.last_id + 1
    event.hash = event_hash(event)
    event.save(force_insert=True)
    head.last_id = event.pk
    head.last_hash = event.hash
    head.save(update_fields=["last_id", "last_hash"])
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""


def audit_verify(*, batch: int = 2000) -> VerifyResult:
    """Walk the chain in id order; report the first row that does not fit."""
    prev = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            break
        for ev in rows:
            if ev.pk != expected_id:
                return VerifyResult(checked, False, expected_id, "missing row")
            if ev.prev_hash != prev:
                return VerifyResult(checked, False, ev.pk, "chain broken")
            if event_hash(ev) != ev.hash:
                return VerifyResult(checked, False, ev.pk, "content changed")
            prev = ev.hash
            expected_id += 1
            checked += 1
            last_id = ev.pk
    head = AuditHead.objects.get(pk=1)
    if head.last_id != last_id or head.last_hash != prev:
        return VerifyResult(checked, False, last_id + 1, "rows removed from the end")
    return VerifyResult(checked, True)

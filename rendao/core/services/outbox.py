"""Writing messages to the outbox and sending given-up ones again.

Delivery is in rendao.core.outbox_delivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import OutboxMessage

if TYPE_CHECKING:
    from rendao.core.models import Branch, User


def message_enqueue(
    *,
    channel: str,
    recipient: str,
    kind: str,
    body: str,
    subject: str = "",
    user: User | None = None,
    branch: Branch | None = None,
    forget_after_delivery: bool = False,
    params: Mapping[str, object] | None = None,
) -> OutboxMessage:
    """Write a message in the caller's transaction; it is delivered after commit.

    If the caller's transaction rolls back, the message was never written and
    nothing is sent.
    """
    message = OutboxMessage.objects.create(
        channel=channel,
        recipient=recipient,
        kind=kind,
        subject=subject,
        body=body,
        user=user,
        branch=branch,
        forget_after_delivery=forget_after_delivery,
        params=json.dumps({k: str(v) for k, v in params.items()}, ensure_ascii=False) if params else "",
    )
    transaction.on_commit(lambda: _schedule(message.pk))
    return message


def _schedule(message_id: object) -> None:
    # Imported late: the task module imports channel adapters and settings.
    from rendao.core.tasks import outbox_deliver

    outbox_deliver(str(message_id))


def outbox_retry(*, actor: User, message: OutboxMessage, meta: RequestMeta | None = None) -> OutboxMessage:
    """Send again a message that was given up (DEAD), with a fresh set of attempts.

    The caller has fetched `message` through the access function, so the actor
    may retry it. Only DEAD messages can be retried: anything else is still on
    its way or already delivered, and a second send would be a duplicate.
    """
    with transaction.atomic():
        # Locked so that two staff pressing "retry" at once requeue it once.
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboxMessage.Status.DEAD:
            raise ValidationError(_("Only messages that were given up can be sent again."))
        before = {"status": locked.status, "attempts": locked.attempts, "last_error": locked.last_error}
        locked.status = OutboxMessage.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.claimed_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at"])
        audit_record(
            actor=actor,
            action="outbox.retry",
            obj=locked,
            branch=locked.branch,
            before=before,
            after={"status": locked.status, "attempts": 0},
            meta=meta,
        )
        transaction.on_commit(lambda: _schedule(locked.pk))
    return locked

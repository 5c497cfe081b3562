"""Writing messages to the outbox. Delivery is in rendao.core.outbox_delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

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
    )
    transaction.on_commit(lambda: _schedule(message.pk))
    return message


def _schedule(message_id: object) -> None:
    # Imported late: the task module imports channel adapters and settings.
    from rendao.core.tasks import outbox_deliver

    outbox_deliver(str(message_id))

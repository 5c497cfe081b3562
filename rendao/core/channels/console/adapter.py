from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.checks import CheckMessage

from rendao.core.channels import DeliveryResult, mask_recipient
from rendao.core.channels.console import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage

logger = logging.getLogger("rendao.outbox")


class ConsoleChannel:
    """Writes each message to the "rendao.outbox" logger instead of sending it.

    This is how the demo, development and tests deliver SMS with no SMS account:
    the worker's log (and the staff outbox page) shows what would have been sent.
    """

    name = "console"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        # The recipient is personal data and is logged masked, like everywhere else.
        # The body is logged in full on purpose, sign-in codes included: the
        # console stands in for the phone, and reading the code here is how a
        # demo user signs in. That is acceptable only because nothing is really
        # sent through this adapter; a deployment that reaches real people routes
        # "sms" to a real gateway, and messages marked forget_after_delivery are
        # blanked in the database as soon as this returns.
        logger.info(
            "console %s message %s to %s: %s%s",
            message.kind,
            message.pk,
            mask_recipient(message.recipient),
            f"[{message.subject}] " if message.subject else "",
            message.body,
        )
        return DeliveryResult(provider_id=f"console:{message.pk}")

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

"""Task-queue jobs of the core app."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

logger = logging.getLogger("rendao.outbox")


@db_task(retries=0)
def outbox_deliver(message_id: str) -> None:
    """Deliver one outbox message (filled in by the outbox delivery work)."""
    logger.debug("outbox message %s queued", message_id)

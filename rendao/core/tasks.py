"""Task-queue jobs of the core app.

Periodic jobs of every app are registered in rendao/periodic.py alone; importing
it here makes them known wherever the task modules are loaded (CoreConfig.ready
in web processes, huey's autodiscovery of `tasks` modules in the worker).
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from rendao import periodic  # noqa: F401
from rendao.core.outbox_delivery import message_deliver


# Huey's own retries stay off: the outbox row holds the attempt count and the
# backoff, so a retry survives a restart of the worker and shows on the staff page.
@db_task(retries=0)
def outbox_deliver(message_id: str) -> None:
    """Make one delivery attempt of an outbox message (see rendao.core.outbox_delivery)."""
    message_deliver(message_id=message_id)

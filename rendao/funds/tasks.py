"""Task-queue jobs of the funds app (periodic ones are in rendao/periodic.py)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from rendao.funds.donations import notification_receive
from rendao.funds.receipting import receipt_issue


# A lost or failed run is caught by receipts_sweep every few minutes, so a
# retry here only makes the receipt arrive sooner.
@db_task(retries=2, retry_delay=10)
def receipt_issue_task(donation_id: int) -> None:
    receipt_issue(donation_id)


@db_task(retries=5, retry_delay=5)
def sandbox_notification_deliver(out_trade_no: str) -> None:
    """The sandbox channel's asynchronous notification, delivered like a real channel's.

    Each attempt is freshly signed (new timestamp and nonce, as WeChat Pay and
    Alipay sign every delivery) and goes through notification_receive, the
    notify endpoint's own function: the same signature, replay and order
    checks. A failure answer is retried, as the real channels retry.
    """
    from rendao.funds.payments.sandbox.adapter import SandboxChannel

    headers, body = SandboxChannel().pay(out_trade_no)
    reply = notification_receive("sandbox", headers, body)
    if reply.status != 200:
        raise RuntimeError(f"sandbox notification answered {reply.status}")

"""Delivering outbox messages: exactly once per message id.

`message_deliver` is the whole life of one attempt:

1. *Claim* the row with one conditional UPDATE (PENDING/RETRYING and due →
   SENDING). The database lets exactly one worker win; a loser updates 0 rows
   and does nothing, so a message queued twice (the on-commit task and the sweep,
   or two sweeps) is still attempted once at a time.
2. *Send* through the adapter its logical channel is routed to, with the message
   id as the idempotency key.
3. *Record* the outcome: SENT (blanking codes that must not linger), RETRYING
   with exponential backoff, or DEAD.

`outbox_sweep` (every minute, registered in rendao/periodic.py) re-queues due
messages and takes back claims that a crashed worker left behind.

Why this is exactly once at the receiver and not only at-least-once: a worker
can crash after the channel accepted a message but before step 3 commits. The
sweep then sees a SENDING row whose claim is too old and sends it again, so
*at the channel* delivery is at-least-once; no design without a distributed
transaction with the provider can do better. The retry carries the same message
id as idempotency key (the SMS gateway's request id, the e-mail Message-ID), so
the receiving side recognises the second copy and drops it: once at the receiver.

Nothing here logs a recipient in clear: only message ids, channels and error
texts that adapters guarantee are free of addresses.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.checks import CheckMessage, Error, register
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from rendao.core.channels import (
    ADAPTERS,
    PermanentError,
    TransientError,
    adapter_for_channel,
)
from rendao.core.models import OutboxMessage

logger = logging.getLogger("rendao.outbox")

Status = OutboxMessage.Status

# First retry after 30 s, then 1, 2, 4 … minutes, never more than 6 hours apart:
# a provider outage of an afternoon is ridden out within the default 8 attempts.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
# A claim older than this belongs to a worker that died: every adapter gives up
# (times out) long before, so a live worker never has its claim taken.
CLAIM_TIMEOUT = timedelta(minutes=5)
# A PENDING message normally goes out through the task queued when its
# transaction committed; the sweep leaves it that long before queueing it again.
PENDING_GRACE = timedelta(minutes=1)
# Messages queued per sweep; the rest wait for the next minute.
SWEEP_BATCH = 500


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones (1 → 30 s, 2 → 60 s, …)."""
    exponent = max(attempts - 1, 0)
    # Capping the exponent first keeps the multiplier small whatever `attempts` is.
    if exponent >= 20:
        return BACKOFF_CAP
    return min(BACKOFF_BASE * (1 << exponent), BACKOFF_CAP)


def message_deliver(*, message_id: str | uuid.UUID, now: datetime | None = None) -> str:
    """Make one delivery attempt of the message; return its status afterwards.

    Returns "" when the message was not ours to send (someone else holds it,
    it is not due yet, it is finished, or it does not exist).
    """
    now = now or timezone.now()
    try:
        message_id = uuid.UUID(str(message_id))
    except ValueError:
        logger.warning("outbox: ignoring a task for malformed message id %r", str(message_id)[:64])
        return ""
    # A worker whose clock lags the web process's may find a fresh message not
    # yet due; the sweep then sends it after PENDING_GRACE.
    claimed = OutboxMessage.objects.filter(
        pk=message_id,
        status__in=[Status.PENDING, Status.RETRYING],
        next_attempt_at__lte=now,
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed == 0:
        logger.debug("outbox message %s: not due or handled elsewhere", message_id)
        return ""
    message = OutboxMessage.objects.get(pk=message_id)
    # Updates below are conditional on still holding our claim: if the sweep took
    # the row back (we were slower than CLAIM_TIMEOUT), the new holder decides.
    ours = OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING, claimed_at=now)

    try:
        adapter = adapter_for_channel(message.channel)
        wait_until = rate_limit_wait(adapter.name, now)
        if wait_until is not None:
            return _postpone(ours, message, adapter.name, wait_until)
        result = adapter.send(message)
    except PermanentError as exc:
        return _give_up(ours, message, str(exc))
    except TransientError as exc:
        return _retry_later(ours, message, str(exc), now)
    except Exception as exc:
        # A bug in an adapter or a library error it did not translate. Its text may
        # quote the recipient (smtplib does), so only the type is kept and logged.
        return _retry_later(ours, message, f"unexpected {type(exc).__name__}", now)

    sent_at = timezone.now()
    # A delivered message forgets its recipient (personal data, PIPL): the masked
    # form written at enqueue is all the outbox page needs from then on.
    changes: dict[str, object] = {
        "status": Status.SENT,
        "sent_at": sent_at,
        "last_error": "",
        "recipient": "",
    }
    if message.forget_after_delivery:
        # Sign-in codes and one-time links must not outlive their delivery.
        changes["body"] = ""
        changes["params"] = ""
    # Recorded even if our claim was taken back meanwhile: the channel accepted
    # the message, and marking it SENT now avoids the duplicate the sweep's retry
    # would cause. Only a row already finished is left alone.
    OutboxMessage.objects.filter(pk=message_id).exclude(status__in=[Status.SENT, Status.DEAD]).update(
        **changes
    )
    logger.info(
        "outbox message %s (%s, %s) sent via %s on attempt %d%s",
        message.pk,
        message.channel,
        message.kind,
        adapter.name,
        message.attempts,
        f" as {result.provider_id}" if result.provider_id else "",
    )
    return Status.SENT


def _retry_later(ours: QuerySet[OutboxMessage], message: OutboxMessage, error: str, now: datetime) -> str:
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        return _give_up(ours, message, f"{error} (gave up after {message.attempts} attempts)")
    next_at = now + backoff(message.attempts)
    if not ours.update(
        status=Status.RETRYING, next_attempt_at=next_at, claimed_at=None, last_error=error[:1000]
    ):
        return _overtaken(message, error)
    logger.warning(
        "outbox message %s (%s) failed on attempt %d/%d, retrying at %s: %s",
        message.pk,
        message.channel,
        message.attempts,
        settings.OUTBOX_MAX_ATTEMPTS,
        next_at.isoformat(),
        error,
    )
    return Status.RETRYING


def _give_up(ours: QuerySet[OutboxMessage], message: OutboxMessage, error: str) -> str:
    if not ours.update(status=Status.DEAD, claimed_at=None, last_error=error[:1000]):
        return _overtaken(message, error)
    logger.error("outbox message %s (%s) given up: %s", message.pk, message.channel, error)
    return Status.DEAD


def _overtaken(message: OutboxMessage, error: str) -> str:
    # The sweep took our claim back while we were sending; whoever holds the
    # message now records its outcome, so our failure is only logged.
    logger.warning(
        "outbox message %s (%s) failed after its claim was taken back: %s", message.pk, message.channel, error
    )
    return ""


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Take back stale claims and queue every due message; return how many were queued.

    Runs every minute. Queueing a message that is also queued elsewhere is
    harmless: only one attempt wins the claim.
    """
    # Imported here: the task module imports this one.
    from rendao.core.tasks import outbox_deliver

    now = now or timezone.now()
    stale = OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    # A worker that keeps dying on the same message (each claim counts as an
    # attempt) must not loop forever.
    dead = stale.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=Status.DEAD, claimed_at=None, last_error="the worker stopped during every attempt"
    )
    reclaimed = stale.update(
        status=Status.RETRYING,
        claimed_at=None,
        next_attempt_at=now,
        last_error="the worker stopped during delivery; sent again",
    )
    if dead or reclaimed:
        logger.warning("outbox sweep: took back %d stale claims, gave up %d", reclaimed, dead)

    due = OutboxMessage.objects.filter(
        Q(status=Status.RETRYING, next_attempt_at__lte=now)
        | Q(status=Status.PENDING, next_attempt_at__lte=now - PENDING_GRACE)
    ).order_by("next_attempt_at")
    ids = list(due.values_list("pk", flat=True)[:SWEEP_BATCH])
    for message_id in ids:
        outbox_deliver(str(message_id))
    if ids:
        logger.info("outbox sweep: queued %d messages", len(ids))
    return len(ids)


# --- per-adapter rate limits ---------------------------------------------------
#
# Counted in the cache, in fixed windows (one counter per adapter and window),
# rather than by counting SENT rows: a count of rows sent in the window would be
# a query per message on an unindexed column, and would race (two workers both
# see 59 of 60 and both send). A cache INCR is one round trip and atomic on
# Redis, which production uses and which every process on every machine shares.
# The file cache of a one-machine install is shared by its processes but its
# INCR is not atomic, so concurrent workers can overshoot by a message or two;
# harmless, because a provider's own throttling answer is a TransientError.

_RATE = re.compile(r"^([a-z][a-z0-9_]{0,29})=([1-9][0-9]{0,6})/([smh])$")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600}


def rate_limits() -> dict[str, tuple[int, int]]:
    """Adapter → (messages, period in seconds) from settings.CHANNEL_RATE_LIMITS.

    ValueError names a malformed entry (a system check reports it at start-up).
    """
    limits: dict[str, tuple[int, int]] = {}
    for entry in settings.CHANNEL_RATE_LIMITS:
        match = _RATE.match(entry.strip())
        if not match:
            raise ValueError(f"{entry!r} is not of the form adapter=count/period (period s, m or h)")
        if match[1] in limits:
            raise ValueError(f"adapter {match[1]!r} is limited twice")
        limits[match[1]] = (int(match[2]), _PERIOD_SECONDS[match[3]])
    return limits


def rate_limit_wait(adapter: str, now: datetime) -> datetime | None:
    """Count one send through `adapter` now; None if allowed, else when its window ends."""
    limit = rate_limits().get(adapter)
    if limit is None:
        return None
    count, period = limit
    window = int(now.timestamp()) // period
    key = f"rendao:channel-rate:{adapter}:{period}:{window}"
    cache.add(key, 0, timeout=period * 2)
    try:
        used = cache.incr(key)
    except ValueError:
        # The counter expired between add and incr: this is its first use.
        cache.set(key, 1, timeout=period * 2)
        used = 1
    if used <= count:
        return None
    return datetime.fromtimestamp((window + 1) * period, tz=UTC)


def _postpone(ours: QuerySet[OutboxMessage], message: OutboxMessage, adapter: str, until: datetime) -> str:
    """Put a message over its adapter's limit back, due when the window ends.

    Not a failure: the attempt counted by the claim is given back. The sweep
    would pick it up within a minute; a task scheduled for the window's end
    sends it sooner under per-second limits.
    """
    if not ours.update(
        status=Status.RETRYING,
        next_attempt_at=until,
        claimed_at=None,
        attempts=F("attempts") - 1,
        last_error=f"waiting for the rate limit of {adapter}",
    ):
        return ""
    logger.info(
        "outbox message %s (%s) postponed to %s: rate limit of %s",
        message.pk,
        message.channel,
        until.isoformat(),
        adapter,
    )
    from rendao.core.tasks import outbox_deliver  # the task module imports this one

    delay = max((until - timezone.now()).total_seconds(), 0) + 0.05
    outbox_deliver.schedule((str(message.pk),), delay=delay)
    return Status.RETRYING


@register()
def check_rate_limits(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """RENDAO_CHANNEL_RATE_LIMITS is well-formed and names known adapters."""
    try:
        limits = rate_limits()
    except ValueError as exc:
        return [
            Error(
                f"RENDAO_CHANNEL_RATE_LIMITS: {exc}.",
                hint="e.g. aliyun_sms=60/m,dingtalk=20/s",
                id="rendao.E103",
            )
        ]
    unknown = sorted(set(limits) - set(ADAPTERS))
    if unknown:
        return [
            Error(
                f"RENDAO_CHANNEL_RATE_LIMITS names unknown adapters: {', '.join(unknown)}.",
                hint=f"Known adapters: {', '.join(sorted(ADAPTERS))}.",
                id="rendao.E104",
            )
        ]
    return []

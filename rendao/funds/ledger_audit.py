"""Re-deriving the funds app's transparency-log leaves from its rows (`rendao manage ledger_audit`).

Registered from FundsConfig.ready() with `rendao.ledger.audit_registry.register`.
Each function finds the row a leaf was logged for and rebuilds the payload the
logging code would write for that row today; the audit then names every key
whose value changed. One query per leaf: the audit is a batch job, and a
per-leaf lookup by a unique column keeps it simple and constant in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rendao.funds.donations import ledger_payload
from rendao.funds.models import Donation, Refund
from rendao.ledger.audit_registry import Gone


def _utc_text(moment: datetime | None) -> str | None:
    # The log's own rendering of a time (rendao.ledger.services), so that equal
    # times compare equal as text.
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(logged: Mapping[str, object], key: str) -> str:
    value = logged.get(key)
    if not isinstance(value, str) or not value:
        raise Gone  # a leaf that names no row of ours cannot have one
    return value


def donation_received_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """The "donation_received" payload of the donation `logged["donation"]` (its order number).

    Includes "at": a donation's leaf is logged at its paid_at, so a changed
    payment time is reported too.
    """
    donation = (
        Donation.objects.select_related("co_initiator").filter(out_trade_no=_text(logged, "donation")).first()
    )
    if donation is None:
        raise Gone
    return {**ledger_payload(donation), "at": _utc_text(donation.paid_at)}


def refund_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """The "refund" payload of the refund `logged["refund"]` (its refund number).

    Mirrors the payload written in refunds._complete_locked. No "at": that leaf
    is logged at the time of writing, which no row keeps exactly.
    """
    refund = Refund.objects.select_related("donation").filter(out_refund_no=_text(logged, "refund")).first()
    if refund is None:
        raise Gone
    donation = refund.donation
    return {
        "refund": refund.out_refund_no,
        "donation": donation.out_trade_no,
        "project": donation.project_id,
        "branch": donation.branch_id,
        "channel": donation.channel,
        "amount_fen": refund.amount_fen,
        "donor": donation.commitment,
    }


def register_rederivers() -> None:
    from rendao.ledger.audit_registry import register
    from rendao.ledger.models import EntryKind

    register(EntryKind.DONATION_RECEIVED, donation_received_now)
    register(EntryKind.REFUND, refund_now)

"""Re-deriving the disbursements' transparency-log leaves from their rows (`rendao manage ledger_audit`).

Registered from DisbursementsConfig.ready(). "allocation" leaves are found by
the disbursement's number, "disbursement" leaves by the payment's bank
reference ("transfer"), "recipient_signoff" leaves by the sign-off row that stores their
index. Each returns the payload the logging code in services.py would write
for that row today.

"recipient_signoff" is shared with goods sign-offs (distribution orders): a
leaf that does not name a disbursement is handed to the re-deriver registered
before ours, if any, so both apps can check their own leaves.
"""

from __future__ import annotations

from collections.abc import Mapping

from rendao.disbursements.models import Disbursement, Payment, Signoff
from rendao.disbursements.services import allocation_payload, disbursement_payload, signoff_payload
from rendao.ledger.audit_registry import Gone, Rederiver


def _text(logged: Mapping[str, object], key: str) -> str:
    value = logged.get(key)
    if not isinstance(value, str) or not value:
        raise Gone
    return value


def allocation_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    d = (
        Disbursement.objects.select_related("fund", "payee")
        .filter(number=_text(logged, "disbursement"))
        .first()
    )
    if d is None:
        raise Gone
    return allocation_payload(d)


def disbursement_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    payment = (
        Payment.objects.select_related("disbursement__payee")
        .filter(bank_reference=_text(logged, "transfer"))
        .first()
    )
    if payment is None:
        raise Gone
    return disbursement_payload(payment.disbursement, payment)


def _signoff_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    index = logged.get("index")
    if not isinstance(index, int):
        raise Gone
    s = Signoff.objects.select_related("disbursement__payee").filter(ledger_index=index).first()
    if s is None:
        raise Gone
    # The payee's word is logged with the amount paid at that moment; paid_fen
    # cannot change after a disbursement is fully paid, which sign-off requires.
    return signoff_payload(s.disbursement, s)


def _signoff_dispatch(other: Rederiver | None) -> Rederiver:
    def rederive(logged: Mapping[str, object]) -> Mapping[str, object]:
        if "disbursement" in logged:
            return _signoff_now(logged)
        if other is None:
            raise Gone
        return other(logged)

    return rederive


def register_rederivers() -> None:
    from rendao.ledger import audit_registry
    from rendao.ledger.models import EntryKind

    audit_registry.register(EntryKind.ALLOCATION, allocation_now)
    audit_registry.register(EntryKind.DISBURSEMENT, disbursement_now)
    previous = audit_registry.rederiver_for(EntryKind.RECIPIENT_SIGNOFF)
    if previous is not None and getattr(previous, "_disbursements", False):
        return  # ready() ran twice (tests): already ours
    combined = _signoff_dispatch(previous)
    combined._disbursements = True  # type: ignore[attr-defined]
    # Replace rather than register(): another app's re-deriver may be there already.
    audit_registry._REGISTRY[EntryKind.RECIPIENT_SIGNOFF] = combined

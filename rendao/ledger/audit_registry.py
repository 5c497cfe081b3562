"""Re-deriving the transparency log's leaves from the business tables.

The log proves that nothing *logged* changed; this proves that the business
tables still say what was logged (`rendao manage ledger_audit`, issue #4 (d)).
Each business app registers, per entry kind, a function that rebuilds the leaf's
payload from the current state of its own rows, from its AppConfig.ready():

    from rendao.ledger.audit_registry import register
    register(EntryKind.DONATION_RECEIVED, donation_payload_now)

A re-deriver is given the logged leaf (decoded JSON, the envelope keys "v",
"kind", "at" and "index" included, so it can find its row and read the schema
version) and returns the payload `ledger_append` would be given for that row
today, or raises `Gone` when the row no longer exists. Kinds with no re-deriver
are reported as "not checked", never as passing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from rendao.ledger import merkle

Rederiver = Callable[[Mapping[str, object]], Mapping[str, object]]

# Keys every leaf carries that are the log's, not the payload's; "at" is compared
# only when a re-deriver returns it (the business time of the event, if it keeps one).
ENVELOPE_KEYS = frozenset({"v", "kind", "index"})

_REGISTRY: dict[str, Rederiver] = {}


class Gone(LookupError):
    """The business row a leaf was derived from no longer exists."""


def register(kind: str, rederive: Rederiver) -> None:
    """Register the re-deriver of one entry kind (once: a second one is a bug)."""
    from rendao.ledger.models import EntryKind

    if kind not in EntryKind.values:
        raise ValueError(f"unknown ledger entry kind: {kind!r}")
    if _REGISTRY.get(kind, rederive) is not rederive:
        raise ValueError(f"a re-deriver for {kind!r} is already registered")
    _REGISTRY[kind] = rederive


def rederiver_for(kind: str) -> Rederiver | None:
    return _REGISTRY.get(kind)


@contextmanager
def registered(kind: str, rederive: Rederiver) -> Iterator[None]:
    """Register a re-deriver for the duration of a block (tests), then restore."""
    previous = _REGISTRY.pop(kind, None)
    register(kind, rederive)
    try:
        yield
    finally:
        _REGISTRY.pop(kind, None)
        if previous is not None:
            _REGISTRY[kind] = previous


@dataclass(frozen=True)
class Mismatch:
    index: int
    kind: str
    reason: str  # names keys, never values: a report is safe to mail or log

    def __str__(self) -> str:
        return f"entry {self.index} ({self.kind}): {self.reason}"


@dataclass
class AuditReport:
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    not_checked: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _normalised(payload: Mapping[str, object]) -> dict[str, object]:
    # What the payload looks like once logged: JSON types only (tuples become
    # lists, keys strings), so it compares equal to the decoded leaf.
    result: dict[str, object] = json.loads(json.dumps(dict(payload), sort_keys=True, ensure_ascii=False))
    return result


def _compare(logged: Mapping[str, object], payload: Mapping[str, object]) -> str:
    expected = _normalised(payload)
    actual = {k: v for k, v in logged.items() if k not in ENVELOPE_KEYS and (k != "at" or "at" in expected)}
    differing = sorted(
        k for k in expected.keys() | actual.keys() if expected.get(k, _MISSING) != actual.get(k, _MISSING)
    )
    return f"business state differs in: {', '.join(differing)}" if differing else ""


_MISSING = object()


def audit_entry(index: int, kind: str, data: bytes, stored_leaf_hash: bytes) -> Mismatch | str | None:
    """Check one entry: a Mismatch, None when it matches, or "not checked"."""
    if merkle.leaf_hash(data) != stored_leaf_hash:
        return Mismatch(index, kind, "stored leaf hash does not match the entry's data")
    try:
        logged = json.loads(data)
    except ValueError:
        return Mismatch(index, kind, "the entry's data is not JSON")
    if not isinstance(logged, dict) or logged.get("kind") != kind or logged.get("index") != index:
        return Mismatch(index, kind, "the entry's data does not name its own kind and index")
    rederive = _REGISTRY.get(kind)
    if rederive is None:
        return "not checked"
    try:
        payload = rederive(logged)
    except Gone:
        return Mismatch(index, kind, "the business row no longer exists")
    reason = _compare(logged, payload)
    return Mismatch(index, kind, reason) if reason else None


def ledger_audit(*, batch: int = 2000) -> AuditReport:
    """Walk every entry in index order, re-deriving the kinds that have a re-deriver."""
    from rendao.ledger.models import Entry

    report = AuditReport()
    after = -1
    while True:
        # Keyset pagination on the unique index: constant memory, one query a batch.
        rows = list(
            Entry.objects.filter(index__gt=after)
            .order_by("index")
            .values_list("index", "kind", "data", "leaf_hash")[:batch]
        )
        if not rows:
            return report
        for index, kind, data, stored in rows:
            outcome = audit_entry(index, kind, bytes(data), bytes(stored))
            if outcome == "not checked":
                report.not_checked[kind] += 1
            elif isinstance(outcome, Mismatch):
                report.checked += 1
                report.mismatches.append(outcome)
            else:
                report.checked += 1
        after = rows[-1][0]

"""Process types: what the engine approves, registered in code by the apps that own them.

An app registers its process type once, from its `AppConfig.ready()`::

    from rendao.approvals import registry

    registry.register(registry.ProcessType(
        key="disbursement",
        label=_("Disbursement"),
        model=Disbursement,
        branch_of=lambda d: d.branch,
        amount_of=lambda d: d.amount_fen,
        title_of=lambda d: d.purpose,
        on_approved=disbursement_approved,   # (obj, request) -> None
        on_rejected=disbursement_rejected,
    ))

and submits objects with `services.request_submit(actor=..., process_type="disbursement", obj=...)`.
Its flows are data (`Flow` rows: seed a default in the app's own data migration).

The callbacks run inside the engine's transaction, after the request's status
has changed and with the request row locked: whatever they write commits or
rolls back with the decision, and an exception undoes the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils.functional import Promise

if TYPE_CHECKING:
    from rendao.approvals.models import ApprovalRequest
    from rendao.core.models import Branch

Callback = Callable[[Any, "ApprovalRequest"], None]


@dataclass(frozen=True)
class ProcessType:
    key: str
    label: str | Promise
    model: type[Model]
    # The branch the object belongs to: steps are placed relative to it.
    branch_of: Callable[[Any], Branch]
    # The amount in fen that conditions and the two-person rule look at; None if none.
    amount_of: Callable[[Any], int | None]
    # A short title for inboxes and messages (no personal data: it is sent out).
    title_of: Callable[[Any], str]
    on_approved: Callback | None = None
    on_rejected: Callback | None = None
    on_withdrawn: Callback | None = None
    # The staff page of the object itself, if it has one.
    url_of: Callable[[Any], str] | None = None


_TYPES: dict[str, ProcessType] = {}


def register(process_type: ProcessType) -> ProcessType:
    """Register (or replace, for tests) a process type under its key."""
    _TYPES[process_type.key] = process_type
    return process_type


def unregister(key: str) -> None:
    _TYPES.pop(key, None)


def get(key: str) -> ProcessType:
    """The process type with this key; KeyError if no app registered it."""
    return _TYPES[key]


def choices() -> list[tuple[str, str]]:
    """(key, label) of every registered type, for forms and the admin."""
    return [(t.key, str(t.label)) for t in sorted(_TYPES.values(), key=lambda t: t.key)]


def label_of(key: str) -> str:
    t = _TYPES.get(key)
    return str(t.label) if t else key

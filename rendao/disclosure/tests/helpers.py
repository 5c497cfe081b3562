"""Shared builders for the disclosure tests."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rendao.core.models import Branch, User
from rendao.disclosure.models import Disclosure
from rendao.disclosure.services import disclosure_draft
from rendao.ledger.models import Entry

START = date(2026, 7, 1)
END = date(2026, 9, 30)


def draft(actor: User, branch: Branch, **overrides: Any) -> Disclosure:
    values: dict[str, Any] = {
        "kind": "progress_quarterly",
        "period_start": START,
        "period_end": END,
        "title": "爱心小书包 第三季度进展",
        "body": "本季度发放书包 120 个。",
        "figures": {"received": 1_250_000, "spent": 980_000},
    }
    values.update(overrides)
    return disclosure_draft(actor=actor, branch=branch, **values)


def disclosure_leaves() -> list[dict[str, Any]]:
    return [
        json.loads(bytes(e.data)) for e in Entry.objects.filter(kind="disclosure_published").order_by("index")
    ]

from __future__ import annotations

import pytest

from rendao.ledger import tasks


@pytest.fixture(autouse=True)
def _no_signing_scheduled_yet() -> None:
    # checkpoint_soon remembers per process when it last scheduled a signing;
    # each test starts as a fresh process would (the cache is cleared too).
    tasks._scheduled_at = None

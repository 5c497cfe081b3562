"""The CSV export runs in constant memory: four times the rows, no more peak memory.

A property of the code, not a timing: tracemalloc counts the bytes Python
allocates while the export is consumed and thrown away, as a client would.
"""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest
from django.utils import timezone

from rendao.conftest import Personas
from rendao.disclosure.open_data import Filters, stream_csv
from rendao.funds.models import Donation, DonationStatus, FundraisingProject
from rendao.funds.tests.factories import open_project

pytestmark = pytest.mark.django_db

N = 1500
CHUNK = 500
# Allowed growth of the peak between N and 4N rows. The output of the extra 3N
# rows is about 3N × 60 bytes ≈ 270 KB, and their rows as Python objects several
# times that, so an export that kept either would exceed this bound. What does
# grow a little per query (~2 KB) is CPython's own attribute lookup cache, which
# is bounded; the chunk is large enough that this stays well inside the bound.
BOUND = 64 * 1024


def paid(project: FundraisingProject, count: int) -> None:
    now = timezone.now()
    Donation.objects.bulk_create(
        (
            Donation(
                out_trade_no=f"MEM{project.pk:04d}{i:08d}",
                project=project,
                branch_id=project.branch_id,
                channel="sandbox",
                amount_fen=1_000 + i,
                status=DonationStatus.PAID,
                public_name="张*",
                follow_token=f"memory-{project.pk}-{i}",
                expires_at=now,
                paid_at=now - timedelta(minutes=i),
            )
            for i in range(count)
        ),
        batch_size=1000,
    )


def export(project: FundraisingProject) -> tuple[int, int, int]:
    """(peak bytes allocated, bytes produced, rows) while streaming one project's donations."""
    produced = rows = 0
    tracemalloc.start()
    try:
        for chunk in stream_csv("donations", Filters(project=project.pk), chunk_size=CHUNK):
            produced += len(chunk)
            rows += chunk.count(b"\r\n")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, produced, rows - 1


def test_peak_memory_does_not_grow_with_the_number_of_rows(personas: Personas) -> None:
    small = open_project(personas.tree.siming, personas.siming_staff, title="小")
    large = open_project(personas.tree.siming, personas.siming_staff, title="大")
    paid(small, N)
    paid(large, 4 * N)
    export(small)  # warm-up: imports, compiled SQL and translation caches are not the export's
    small_peak, small_bytes, small_rows = export(small)
    large_peak, large_bytes, large_rows = export(large)
    assert (small_rows, large_rows) == (N, 4 * N)
    assert large_bytes - small_bytes > 3 * BOUND
    assert large_peak - small_peak < BOUND, (small_peak, large_peak)

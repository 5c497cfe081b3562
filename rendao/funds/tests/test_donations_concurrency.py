"""Exactly once under fire: thousands of orders, duplicate notifications in random order
from a dozen worker processes, some of them killed mid-run; then forged notifications
of every kind.

The work happens in rendao/funds/tests/donations_conductor.py, run as a process of
its own against a database of its own — a SQLite file in the test's temporary
directory, or, when the suite runs on PostgreSQL, a scratch database on the same
server created here and dropped afterwards — because the test's own database is
invisible to other processes (in memory, or inside the test's transaction). Its
workers are forked from it, each with its own connection, and call
`notification_receive` exactly as the notify endpoint does. The conductor reports
what it delivered and what the database holds; this test judges it.

Bounded: ORDERS orders, at most five notifications each, FORGED_PER_KIND forged
notifications of each kind, a deadline inside the conductor and a timeout here;
only local files and the loopback database.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from rendao.funds.tests.donations_conductor import FORGED_KINDS, KILLS, WORKERS

REPO = Path(__file__).resolve().parents[3]
ORDERS = 2000
FORGED_PER_KIND = 50  # 11 kinds: 550 forged notifications

pytestmark = pytest.mark.slow


def _postgres_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _postgres_admin(sql: str) -> None:
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database other processes can reach, of the same engine as the suite's."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
        return
    # A name of its own: xdist workers and other runs on the server never clash.
    name = f"rendao_concurrency_{secrets.token_hex(6)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url(name)
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _conduct(tmp_path: Path, database_url: str) -> dict[str, Any]:
    env = dict(os.environ)
    for name in ("RENDAO_LEDGER_KEY_FILE", "RENDAO_LEDGER_ORIGIN", "REDIS_URL", "RENDAO_PAYMENT_SANDBOX_KEY"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="rendao.settings",
        RENDAO_ENV="development",
        RENDAO_DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        # As in production: the receipt is queued, not issued inline.
        RENDAO_HUEY_IMMEDIATE="false",
        # Every forged notification logs a security warning; the counts are asserted.
        RENDAO_LOG_LEVEL="ERROR",
    )
    result_path = tmp_path / "result.json"
    stderr = tmp_path / "conductor.stderr"
    with stderr.open("wb") as err:
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "rendao.funds.tests.donations_conductor",
                str(result_path),
                "--orders",
                str(ORDERS),
                "--forged-per-kind",
                str(FORGED_PER_KIND),
            ],
            env=env,
            cwd=REPO,
            stdout=err,
            stderr=err,
            check=True,
            timeout=300,
        )
    result: dict[str, Any] = json.loads(result_path.read_text())
    assert "crash" not in result, result.get("crash", "") + stderr.read_text()[-2000:]
    return result


def test_duplicate_notifications_from_killed_and_concurrent_workers_pay_every_order_exactly_once_and_forgeries_change_nothing(  # noqa: E501
    tmp_path: Path, database_url: str
) -> None:
    result = _conduct(tmp_path, database_url)
    honest, books = result["honest"], result["after_honest"]

    # The run was what it claims: ≥ 12 workers at once, 3 killed, their messages redelivered.
    assert honest["max_concurrent"] >= WORKERS
    assert honest["killed"] == KILLS
    assert result["workers_started"] == WORKERS + KILLS
    assert honest["redelivered"] >= KILLS
    assert honest["errors"] == []
    assert honest["messages"] > 2 * ORDERS  # 1–5 per order
    assert honest["acked"] == honest["messages"]
    # Every delivery was accepted, except a redelivered message whose first
    # delivery had committed before its worker died: its nonce is then a replay.
    assert honest["refused_not_redelivered"] == 0
    assert set(books["rejections"]) <= {"replayed"}
    assert books["rejections"].get("replayed", 0) == honest["status_counts"].get("400", 0)

    # Every order paid exactly once, to the fen: none lost, none counted twice.
    assert books["orders"] == ORDERS
    assert books["statuses"] == {"paid": ORDERS}
    assert books["paid_fen"] == books["ordered_fen"]
    assert books["distinct_txn_ids"] == ORDERS
    assert books["orders_with_one_entry"] == ORDERS
    assert books["entries_total"] == ORDERS
    assert books["orders_with_one_leaf"] == ORDERS
    assert books["leaves_total"] == ORDERS
    assert books["distinct_ledger_indexes"] == ORDERS
    # The journal balances and every stored balance is its recomputation.
    assert books["balanced"]
    assert books["differences"] == []
    assert books["total_debit_fen"] == books["ordered_fen"]
    assert (books["raised_fen"], books["donation_count"]) == (books["ordered_fen"], ORDERS)

    forged = result["forged"]
    assert forged["messages"] >= 500
    assert forged["by_kind"] == dict.fromkeys(FORGED_KINDS, FORGED_PER_KIND)
    assert forged["errors"] == []
    assert forged["acked"] == forged["messages"]
    assert forged["accepted"] == 0
    assert forged["state_unchanged"]
    # Each recorded as a security event, once, with the reason of its kind.
    assert forged["distinct_bodies"] == forged["messages"]
    recorded = dict(forged["recorded"])
    assert len(forged["recorded"]) == forged["messages"]
    assert recorded == forged["expected"]
    after = result["after_forged"]
    assert {k: v for k, v in after.items() if k not in {"rejections", "last_rejection_id"}} == {
        k: v for k, v in books.items() if k not in {"rejections", "last_rejection_id"}
    }
    expected_reasons = Counter(FORGED_KINDS[kind] for kind in FORGED_KINDS for _ in range(FORGED_PER_KIND))
    expected_reasons["replayed"] += books["rejections"].get("replayed", 0)
    assert after["rejections"] == dict(expected_reasons)

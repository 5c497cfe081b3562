"""The public project page at 1,000,000 donations: latency over HTTP and queries per request.

    .venv/bin/python bench/project_page.py [--donations 1000000] [--seconds 10] [--connections 4]
    .venv/bin/python bench/project_page.py --database-url postgres://postgres@127.0.0.1:5432/bench_project_page

A fresh data directory (SQLite by default; with --database-url a PostgreSQL
database of that name, created here and dropped afterwards), migrated, one open
project (bench/donations.py's set-up). Paid donations are inserted directly with
SQL (executemany on SQLite, COPY on PostgreSQL; unique order numbers and follow
tokens, anonymous donors, spread over 90 days), first 1,000, then up to
--donations. At each size: the SQL statements of one GET /give/p/<id>/ through
Django's whole stack in this process (an execute wrapper), then p50/p99 of the
page over HTTP from gunicorn with 2 sync workers (bench/_load.py), and
/api/v1/health on the same server for the ratio.

Last line: queries_1k=… queries_1m=… p50_ms_1k=… p99_ms_1k=… p50_ms_1m=… p99_ms_1m=… …
(the query count must be the same at both sizes).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import LoadResult, load
from bench.donations import bench_database, open_project
from bench.http_baseline import bench_env, free_port, manage, start_server, stop_server, wait_ready

SMALL = 1_000
BATCH = 20_000


def _rows(project_id: int, branch_id: int, start: int, stop: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of paid, anonymous donations number start … stop - 1."""
    from django.db import connection
    from django.utils import timezone

    from rendao.funds.models import Donation, DonationStatus

    now = timezone.now()
    template = Donation(
        project_id=project_id,
        branch_id=branch_id,
        channel="sandbox",
        amount_fen=1_000,
        status=DonationStatus.PAID,
        anonymous=True,
        public_name="爱心人士",
        receipt_wanted=False,
        created_at=now,
        expires_at=now,
        paid_at=now,
    )
    fields = [f for f in Donation._meta.concrete_fields if not f.primary_key]
    # Columns that stay the same on every row: prepared once, as the ORM would.
    fixed = {f.column: f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields}
    columns = [str(f.column) for f in fields]
    by_name = {f.name: f for f in fields}
    varying = (
        "out_trade_no",
        "follow_token",
        "amount_fen",
        "paid_at",
        "created_at",
        "channel_txn_id",
        "public_name",
    )
    rows = []
    for i in range(start, stop):
        # Spread over 90 days, newest last; amounts 1–500 yuan.
        paid = now - timedelta(seconds=(stop - i) * 7_776_000 // max(stop, 1))
        values = {
            "out_trade_no": f"RDB{i:013d}",
            "follow_token": f"{i:012d}{secrets.token_hex(15)}",
            "amount_fen": 100 * (1 + i * 7919 % 500),
            "paid_at": paid,
            "created_at": paid - timedelta(seconds=30),
            "channel_txn_id": f"SBXB{i:013d}",
            "public_name": "爱心人士" if i % 3 else "张*明",
        }
        prepared = {name: by_name[name].get_db_prep_save(value, connection) for name, value in values.items()}
        rows.append(tuple(prepared[c] if c in varying else fixed[c] for c in columns))
    return columns, rows


def insert_donations(project_id: int, branch_id: int, start: int, stop: int) -> None:
    from django.db import connection, transaction
    from django.db.models import F

    from rendao.funds.models import Donation, FundraisingProject

    table = Donation._meta.db_table
    for low in range(start, stop, BATCH):
        high = min(stop, low + BATCH)
        columns, rows = _rows(project_id, branch_id, low, high)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608
            total = sum(row[columns.index("amount_fen")] for row in rows)
            FundraisingProject.objects.filter(pk=project_id).update(
                raised_fen=F("raised_fen") + total, donation_count=F("donation_count") + len(rows)
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def page_queries(path: str) -> tuple[int, int, float]:
    """Statements of one uncached GET of the page through Django's stack, its size in
    bytes, and the median milliseconds of 20 uncached renders.

    Anonymous visitors get the page from the cache (10 s per project and language,
    rendao.funds.views_public); this measures the render behind it.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    client = Client()
    client.get(path)  # warm: templates
    cache.clear()
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # An execute wrapper sees every statement; CaptureQueriesContext reads the
        # query log, which each request's start resets here (CONN_MAX_AGE=0).
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(20):
        cache.clear()
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return len(statements), len(response.content), statistics.median(times)


def measure(
    env: dict[str, str], data_dir: Path, path: str, ns: argparse.Namespace
) -> tuple[LoadResult, LoadResult]:
    from django.db import connections

    connections.close_all()
    port = free_port()
    log = data_dir / "gunicorn.log"
    server = start_server(env, port, log)
    try:
        wait_ready(port, server)
        load(port, path, connections=ns.connections, seconds=2, tool=ns.tool)
        page = load(port, path, connections=ns.connections, seconds=ns.seconds, tool=ns.tool)
        health = load(
            port, "/api/v1/health", connections=ns.connections, seconds=ns.seconds / 2, tool=ns.tool
        )
    except Exception:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_server(server)
    return page, health


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--database-url", default="")
    ns = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rendao-bench-page-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        env.update(RENDAO_ENV="development", RENDAO_PAYMENT_SANDBOX_KEY=uuid.uuid4().hex)
        env["RENDAO_ALLOWED_HOSTS"] = "127.0.0.1,testserver"
        with bench_database(ns.database_url, env) as engine:
            return _bench(ns, env, data_dir, engine)


def _bench(ns: argparse.Namespace, env: dict[str, str], data_dir: Path, engine: str) -> int:
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from rendao.funds.models import FundraisingProject

    project_id = open_project()
    branch_id = FundraisingProject.objects.values_list("branch_id", flat=True).get(pk=project_id)
    path = f"/give/p/{project_id}/"
    figures: dict[str, str] = {"engine": engine}
    done = 0
    for size, label in (
        (SMALL, "1k"),
        (ns.donations, "1m" if ns.donations == 1_000_000 else str(ns.donations)),
    ):
        started = time.monotonic()
        insert_donations(project_id, branch_id, done, size)
        done = size
        print(f"{size:>9,} donations in the database (inserted in {time.monotonic() - started:.1f} s)")
        queries, size_bytes, render_ms = page_queries(path)
        page, health = measure(env, data_dir, path, ns)
        print(
            f"  {path}: {queries} queries, {size_bytes} bytes, uncached render {render_ms:.1f} ms; "
            f"served (anonymous cache): {page.rps:.1f} req/s p50 {page.p50_ms:.2f} ms "
            f"p99 {page.p99_ms:.2f} ms ({page.requests} requests, {page.errors} errors, {page.tool}); "
            f"/api/v1/health {health.rps:.1f} req/s"
        )
        figures.update(
            {
                f"queries_{label}": str(queries),
                f"render_ms_{label}": f"{render_ms:.1f}",
                f"p50_ms_{label}": f"{page.p50_ms:.2f}",
                f"p99_ms_{label}": f"{page.p99_ms:.2f}",
                f"rps_{label}": f"{page.rps:.1f}",
                f"ratio_{label}": f"{page.rps / health.rps:.2f}",
            }
        )
    from django.db import connections

    connections.close_all()
    print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0 if figures["queries_1k"] == figures.get("queries_1m", figures["queries_1k"]) else 1


if __name__ == "__main__":
    sys.exit(main())

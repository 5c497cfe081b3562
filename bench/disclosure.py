"""Public disclosure at 1,000,000 donations and 10,000 disbursements: pages, totals, CSV export.

    .venv/bin/python bench/disclosure.py [--donations 1000000] [--disbursements 10000] [--seconds 10]
    .venv/bin/python bench/disclosure.py --database-url postgres://postgres@127.0.0.1:5432/bench_disclosure

A fresh data directory (SQLite by default; with --database-url a PostgreSQL
database of that name, created here and dropped afterwards), migrated, one open
restricted project (bench/donations.py's set-up, its plan moved back 200 days).
Rows are written in bulk as the services would leave them, since the read side
is what is measured:

- paid donations (bench/project_page.py's insert, COPY on PostgreSQL), half of
  them moved back 90 days so they spread over about 180 days;
- disbursements paid from the project's fund (bench/funduse.py's insert);
- the project's daily totals (`funds.DailyTotal`), which the payment path keeps
  and a bulk insert bypasses: rebuilt with one GROUP BY over the donations
  (`daily_consistent` is asserted at the small size); the fund's stored balance
  set to income minus what was paid out, as the journal would leave it.

Two sizes: small (1,000 donations, 10 disbursements) and the full size (with a
third, 100,000 donations, for the CSV export only). At each:

1. through Django's whole stack in this process, the project disclosure page
   /open/p/<pk>/, the society page /open/ and GET /api/v1/open/summary/society:
   the SQL statements of one uncached request (an execute wrapper), then p50/p99
   of --requests GETs, each after clearing the cache (the render, not a cache hit);
2. over HTTP from gunicorn (2 sync workers, bench/http_baseline.py) on loopback:
   requests/s of the project page and of /healthz (the trivial endpoint) in the
   same run, with a bounded load generator (bench/_load.py); the ratio's goal is ≥ 0.5;
3. in child processes, the CSV export of every public donation through
   GET /open/data/donations.csv (a streaming response, consumed chunk by chunk):
   seconds and the growth of resident memory while it streams (untraced), and
   the tracemalloc peak (a second, traced run). The memory must stay flat from
   1,000 to 100,000 to 1,000,000 rows.

The statement counts must be equal at both sizes, else the bench fails.

Last line: project_p99_ms=… project_queries=… society_p99_ms=… society_queries=…
ratio_to_trivial=… csv_1m_s=… csv_peak_mb=… (full size; society: the larger of
/open/ and the JSON; csv_peak_mb: the tracemalloc peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import LoadResult, load, percentile
from bench.donations import bench_database, open_project
from bench.http_baseline import bench_env, free_port, manage, start_server, stop_server, wait_ready

REPO = Path(__file__).resolve().parents[1]

CSV_URL = "/open/data/donations.csv"
SOCIETY_API = "/api/v1/open/summary/society"
TRIVIAL = "/healthz"


# --- loading ---------------------------------------------------------------------------------


def _backdate_plan(project_id: int) -> None:
    """Open the project 200 days ago, so every loaded donation falls inside its run."""
    from datetime import timedelta

    from django.utils import timezone

    from rendao.funds.models import FundraisingProject

    today = timezone.localdate()
    FundraisingProject.objects.filter(pk=project_id).update(
        start_date=today - timedelta(days=200),
        opened_on=today - timedelta(days=200),
        filed_on=today - timedelta(days=201),
    )


def _spread(project_id: int, after_pk: int) -> None:
    """Move every other donation inserted after `after_pk` back 90 days: bench/project_page.py
    spreads them over 90 days, the disclosure pages should see about 180 day rows."""
    from datetime import timedelta

    from django.db.models import F
    from django.db.models.functions import Mod

    from rendao.funds.models import Donation

    Donation.objects.filter(project_id=project_id, pk__gt=after_pk).alias(odd=Mod("pk", 2)).filter(
        odd=1
    ).update(paid_at=F("paid_at") - timedelta(days=90), created_at=F("created_at") - timedelta(days=90))


def daily_totals_build(project_id: int) -> int:
    """The project's DailyTotal rows from one GROUP BY over its donations (the local day,
    as `daily_received` counts it); returns the number of rows."""
    from django.db import transaction
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    from rendao.funds.models import DailyTotal, Donation, DonationStatus

    groups = (
        Donation.objects.filter(
            project_id=project_id,
            refund_flagged=False,
            status__in=[DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED, DonationStatus.REFUNDED],
        )
        .annotate(day=TruncDate("paid_at"))
        .values("day", "channel", "co_initiator_id")
        .annotate(n=Count("id"), fen=Sum("amount_fen"))
        .order_by()
    )
    rows = [
        DailyTotal(
            project_id=project_id,
            day=g["day"],
            channel=g["channel"],
            partner=g["co_initiator_id"] or 0,
            received_count=g["n"],
            received_fen=g["fen"],
        )
        for g in groups
    ]
    with transaction.atomic():
        DailyTotal.objects.filter(project_id=project_id).delete()
        DailyTotal.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _fund_balance(project_id: int) -> None:
    """The fund's stored balance as the journal would leave it: income less what was paid out."""
    from django.db.models import Sum

    from rendao.disbursements.models import Payment
    from rendao.funds.models import Account, FundraisingProject

    raised = FundraisingProject.objects.values_list("raised_fen", flat=True).get(pk=project_id)
    paid = Payment.objects.filter(disbursement__project_id=project_id).aggregate(s=Sum("amount_fen"))["s"]
    Account.objects.filter(project_id=project_id, kind=Account.Kind.RESTRICTED_FUND).update(
        balance_fen=raised - (paid or 0)
    )


def load_size(project_id: int, branch_id: int, done: tuple[int, int], size: tuple[int, int]) -> None:
    from django.db import connection

    from bench.funduse import _insert_disbursements
    from bench.project_page import insert_donations
    from rendao.funds.models import Donation

    last = Donation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    insert_donations(project_id, branch_id, done[0], size[0])
    _spread(project_id, last)
    _insert_disbursements(project_id, size[1] - done[1], done[1])
    daily_totals_build(project_id)
    _fund_balance(project_id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- measuring -------------------------------------------------------------------------------


def timed(path: str, requests: int, slowest: int = 0) -> dict[str, float]:
    """Statements of one uncached GET through Django's stack, then p50/p99 of `requests`
    uncached GETs (the cache is cleared before each, outside the timing). `slowest`:
    print that many of the slowest statements of the counted request."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get(path)  # warm: templates, imports
    assert response.status_code == 200, (path, response.status_code, response.content[:500])
    cache.clear()
    statements: list[tuple[float, str]] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(count):
        response = client.get(path)
    samples = []
    for _ in range(requests):
        cache.clear()
        started = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    if slowest:
        for ms, sql in sorted(statements, reverse=True)[:slowest]:
            print(f"    {ms:8.1f} ms  {sql[:300]}")
    return {
        "p50_ms": round(percentile(samples, 0.5), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "queries": len(statements),
        "bytes": len(response.content),
    }


def served(
    env: dict[str, str], data_dir: Path, path: str, ns: argparse.Namespace
) -> tuple[LoadResult, LoadResult]:
    """Requests/s of `path` and of the trivial endpoint on one gunicorn, same run."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    log = data_dir / "gunicorn.log"
    server = start_server(env, port, log)
    try:
        wait_ready(port, server)
        results = []
        for target in (path, TRIVIAL):
            load(port, target, connections=ns.connections, seconds=2, tool=ns.tool)
            results.append(load(port, target, connections=ns.connections, seconds=ns.seconds, tool=ns.tool))
    except Exception:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_server(server)
    return results[0], results[1]


def csv_export(env: dict[str, str]) -> dict[str, float]:
    """Stream the donations CSV twice, each time in a fresh child process (nothing of
    this process's data in its memory): once untraced, for the seconds and the resident
    memory; once under tracemalloc, for the peak of Python allocations (tracing slows
    it about fivefold, so its seconds are not the export's)."""
    from django.db import connections

    connections.close_all()
    figures: dict[str, float] = {}
    for trace in (False, True):
        out = subprocess.run(
            [sys.executable, __file__, "--csv-child", *(["--csv-trace"] if trace else [])],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if out.returncode != 0:
            raise RuntimeError(f"CSV child failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
        line = next(x for x in out.stdout.splitlines() if x.startswith("CSV "))
        figures |= json.loads(line.removeprefix("CSV "))
    return figures


def _rss_mb() -> float:
    """This process's resident memory now (Linux), in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _csv_child(trace: bool) -> int:
    import tracemalloc

    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    # One request first, so imports and URL resolution are not in the figures.
    client.get("/healthz")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(CSV_URL)
    assert response.status_code == 200, response.status_code
    assert response.streaming, "the CSV export is expected to stream"
    size = lines = 0
    rss_start = rss_peak = _rss_mb()
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        size += len(chunk)
        lines += chunk.count(b"\n")
        if not trace:
            rss_peak = max(rss_peak, _rss_mb())
    seconds = round(time.perf_counter() - started, 2)
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print("CSV " + json.dumps({"csv_traced_s": seconds, "csv_peak_mb": round(peak / 2**20, 2)}))
        return 0
    figures = {
        "csv_s": seconds,
        # Resident memory sampled after every chunk while streaming, against its value
        # when the response started: what the export itself holds. (Not ru_maxrss: on
        # Linux a child started by fork and exec keeps the parent's high-water mark.)
        "csv_rss_start_mb": rss_start,
        "csv_rss_growth_mb": round(max(rss_peak, _rss_mb()) - rss_start, 1),
        "csv_mb": round(size / 2**20, 2),
        "csv_lines": lines,
    }
    print("CSV " + json.dumps(figures))
    return 0


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--disbursements", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100, help="timed in-process GETs per page")
    parser.add_argument("--seconds", type=float, default=10.0, help="HTTP load per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--slowest", type=int, default=3, help="print the N slowest statements")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn ratio")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV export")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--csv-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv-trace", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.csv_child:
        return _csv_child(ns.csv_trace)

    with tempfile.TemporaryDirectory(prefix="rendao-bench-disclosure-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        env.update(RENDAO_ENV="development", RENDAO_PAYMENT_SANDBOX_KEY=uuid.uuid4().hex)
        env["RENDAO_ALLOWED_HOSTS"] = "127.0.0.1,testserver"
        with bench_database(ns.database_url, env) as engine:
            return _bench(ns, env, data_dir, engine)


def _bench(ns: argparse.Namespace, env: dict[str, str], data_dir: Path, engine: str) -> int:
    manage(env, "migrate", "--no-input", "-v", "0")
    # The pages use the manifest storage, in process as in gunicorn.
    manage(env, "collectstatic", "--no-input", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from rendao.core.models import Branch
    from rendao.funds.daily import daily_consistent
    from rendao.funds.models import DailyTotal, FundraisingProject

    project_id = open_project()
    _backdate_plan(project_id)
    project = FundraisingProject.objects.get(pk=project_id)
    city = Branch.objects.get(pk=project.branch_id)
    pages = {
        "project": f"/open/p/{project_id}/",
        "society_page": "/open/",
        "society_api": SOCIETY_API,
    }
    figures: dict[str, float] = {}
    done = (0, 0)
    sizes = [("small", min(1_000, ns.donations), min(10, ns.disbursements))]
    if ns.donations > 100_000:
        # The CSV export only: a third point between, to show its memory does not grow.
        sizes.append(("mid", 100_000, min(1_000, ns.disbursements)))
    if ns.donations > 1_000 or ns.disbursements > 10:
        sizes.append(("full", ns.donations, ns.disbursements))
    for label, donations, disbursements in sizes:
        started = time.monotonic()
        load_size(project_id, city.pk, done, (donations, disbursements))
        done = (donations, disbursements)
        days = DailyTotal.objects.filter(project_id=project_id).count()
        print(
            f"{label}: {donations:,} donations, {disbursements:,} disbursements, {days} daily rows "
            f"(loaded in {time.monotonic() - started:.1f} s)",
            flush=True,
        )
        if label == "small":
            assert daily_consistent(project), "bulk-built daily totals differ from a recomputation"
        for name, path in pages.items() if label != "mid" else ():
            result = timed(path, ns.requests, ns.slowest)
            print(f"  {path}: {result}", flush=True)
            figures |= {f"{name}_{key}_{label}": value for key, value in result.items() if key != "bytes"}
        if not ns.no_http and label != "mid":
            page, trivial = served(env, data_dir, pages["project"], ns)
            ratio = page.rps / trivial.rps
            print(
                f"  served: {pages['project']} {page.rps:.1f} req/s p99 {page.p99_ms:.2f} ms "
                f"({page.requests} requests, {page.errors} errors); {TRIVIAL} {trivial.rps:.1f} req/s; "
                f"ratio {ratio:.2f} ({page.tool})",
                flush=True,
            )
            figures |= {
                f"project_rps_{label}": round(page.rps, 1),
                f"trivial_rps_{label}": round(trivial.rps, 1),
                f"ratio_{label}": round(ratio, 2),
                f"project_http_p99_ms_{label}": round(page.p99_ms, 2),
            }
        if not ns.no_csv:
            result = csv_export(env)
            print(f"  {CSV_URL}: {result}", flush=True)
            figures |= {f"{key}_{label}": value for key, value in result.items()}

    from django.db import connections

    connections.close_all()
    last = sizes[-1][0]
    equal = all(figures[f"{name}_queries_small"] == figures[f"{name}_queries_{last}"] for name in pages)
    print(f"engine={engine} cores={os.cpu_count()} load_average={os.getloadavg()[0]:.1f}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    summary = {
        "project_p99_ms": figures[f"project_p99_ms_{last}"],
        "project_queries": figures[f"project_queries_{last}"],
        "society_p99_ms": max(figures[f"society_page_p99_ms_{last}"], figures[f"society_api_p99_ms_{last}"]),
        "society_queries": max(
            figures[f"society_page_queries_{last}"], figures[f"society_api_queries_{last}"]
        ),
        "ratio_to_trivial": figures.get(f"ratio_{last}", "n/a"),
        "csv_1m_s": figures.get(f"csv_s_{last}", "n/a"),
        "csv_peak_mb": figures.get(f"csv_peak_mb_{last}", "n/a"),
    }
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    if not equal:
        print("FAIL: statements per request grew with the number of donations")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

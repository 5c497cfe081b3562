"""Donations end to end over HTTP: create the order, then the channel's signed notification.

    .venv/bin/python bench/donations.py [--n 3000] [--clients 4] [--health-seconds 5]
    .venv/bin/python bench/donations.py --database-url postgres://postgres@127.0.0.1:5432/bench_donations

Sets up a fresh data directory (SQLite by default; with --database-url a
PostgreSQL database of that name, created here and dropped afterwards), migrates,
opens one project, and starts gunicorn with 2 sync workers on a free loopback
port, configured as in production: the receipt is queued (huey on its SQLite
file, not run inline), SQLite with WAL and synchronous=FULL. The sandbox signing
key is the bench's own (RENDAO_PAYMENT_SANDBOX_KEY) so that this process signs
notifications exactly as the sandbox does.

One donation, timed as a whole, is
1. POST /api/v1/donations (JSON, Idempotency-Key): the order, registered with the
   sandbox channel (its own books, a SQLite file in the data directory);
2. the sandbox pays it (`SandboxChannel.pay`, in this process, as the cashier's
   button does) and returns the signed notification;
3. POST /pay/notify/sandbox/ with it: signature, nonce, order row lock, journal
   entry, transparency-log leaf, progress counters, receipt queued; answer "OK".

`--clients` threads run donations until N are done (bounded by N and by
--max-seconds); /api/v1/health is measured on the same server in the same run
for the ratio. At the end: N orders paid, the journal balanced and every stored
balance equal to its recomputation, else the bench fails.

Last line: donations_per_s=… p50_ms=… p99_ms=… health_rps=… ratio_to_trivial=…
(ratio_to_trivial = donations per second / health requests per second; one
donation is two requests). Goal: ≥ 300 donations/s with p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import HOST, load, percentile
from bench.http_baseline import bench_env, free_port, manage, start_server, stop_server, wait_ready

REPO = Path(__file__).resolve().parents[1]
AMOUNTS_FEN = (1_000, 5_000, 10_000, 20_000, 50_000, 100_000)


# --- set-up --------------------------------------------------------------------------------


def _postgres(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname or HOST,
        port=parts.port or 5432,
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def _database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    return name


def open_project() -> int:
    """One open, filed, restricted project with its accounts, as the staff pages leave it."""
    from datetime import timedelta

    from django.utils import timezone

    from rendao.core.models import Branch, User
    from rendao.funds.donations import donation_accounts_open
    from rendao.funds.models import FundraisingProject, ProjectStatus
    from rendao.funds.projects import _restricted_fund

    today = timezone.localdate()
    city = Branch.objects.add_root(
        instance=Branch(name="厦门市红十字会", kind=Branch.Kind.CITY, division_code="350200000000")
    )
    creator = User.objects.create_user("bench", display_name="bench")
    project = FundraisingProject.objects.create(
        branch=city,
        created_by=creator,
        title="红十字爱心小书包",
        purpose="为困难家庭学生送书包",
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=60),
        area="厦门市",
        responsible_name="项目负责人",
        responsible_office_address="厦门市思明区红十字会办公室",
        channels=["sandbox"],
        bank_account="厦门市红十字会 基本户 0000",
        beneficiaries="困难家庭学生",
        intended_use="采购书包与文具",
        cost_fen=0,
        leftover_handling="转入同类助学项目",
        target_fen=10_000_000_000,
        restricted=True,
        status=ProjectStatus.OPEN,
        filing_number="350200-2026-001",
        filed_on=today - timedelta(days=11),
        opened_on=today - timedelta(days=10),
    )
    _restricted_fund(project, actor=None)
    donation_accounts_open(project)
    return project.pk


# --- one donation --------------------------------------------------------------------------


@dataclass
class Run:
    budget: int
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    done: int = 0


def _post(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    conn.request("POST", path, body=body, headers={"Host": HOST, **headers})
    response = conn.getresponse()
    return response.status, response.read()


def donate_once(port: int, project_id: int, amount: int, index: int) -> str:
    """Create, pay and notify one donation; returns an error text, or '' when it went through."""
    from rendao.funds.payments.sandbox.adapter import SandboxChannel

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        body = json.dumps(
            {
                "project_id": project_id,
                "amount_fen": amount,
                "channel": "sandbox",
                "anonymous": index % 3 == 0,
                "donor_name": "" if index % 3 == 0 else "张三明",
                "receipt_wanted": index % 4 != 0,
            }
        ).encode()
        status, answer = _post(
            conn,
            "/api/v1/donations",
            body,
            {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
        if status != 201:
            return f"create answered {status}: {answer[:200]!r}"
        out_trade_no = json.loads(answer)["out_trade_no"]
        conn.close()  # gunicorn's sync workers close after each response
        headers, notification = SandboxChannel().pay(out_trade_no)
        status, answer = _post(
            conn, "/pay/notify/sandbox/", notification, {"Content-Type": "application/json", **headers}
        )
        if status != 200 or answer != b"OK":
            return f"notify answered {status}: {answer[:200]!r}"
        return ""
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def client(run: Run, port: int, project_id: int) -> None:
    while time.perf_counter() < run.deadline:
        with run.lock:
            if run.budget <= 0:
                return
            run.budget -= 1
            index = run.budget
        started = time.perf_counter()
        error = donate_once(port, project_id, AMOUNTS_FEN[index % len(AMOUNTS_FEN)], index)
        elapsed = time.perf_counter() - started
        with run.lock:
            if error:
                run.failures.append(error)
            else:
                run.done += 1
                run.latencies.append(elapsed)


def drive(port: int, project_id: int, *, n: int, clients: int, max_seconds: float) -> tuple[Run, float]:
    run = Run(budget=n, deadline=time.perf_counter() + max_seconds)
    threads = [
        threading.Thread(target=client, args=(run, port, project_id), daemon=True) for _ in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 60)
    return run, time.perf_counter() - started


# --- checks ---------------------------------------------------------------------------------


def books() -> dict[str, Any]:
    from django.db.models import Sum

    from rendao.funds.accounting import accounts_recompute
    from rendao.funds.models import Donation, DonationStatus, FundraisingProject

    paid = Donation.objects.filter(status=DonationStatus.PAID)
    result = accounts_recompute()
    project = FundraisingProject.objects.get()
    return {
        "paid": paid.count(),
        "paid_fen": paid.aggregate(s=Sum("amount_fen"))["s"] or 0,
        "balanced": result.balanced,
        "differences": len(result.differences),
        "raised_fen": project.raised_fen,
    }


@contextmanager
def bench_database(database_url: str, env: dict[str, str]) -> Iterator[str]:
    """The engine's name; with a URL, a fresh PostgreSQL database of that name (put into
    `env`), dropped again afterwards. Without one, SQLite in the data directory."""
    if not database_url:
        yield "sqlite"
        return
    name = _database_name(database_url)
    _postgres(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres(database_url, f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = database_url
    try:
        yield "postgresql"
    finally:
        from django.db import connections

        connections.close_all()
        _postgres(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="donations to make (measured)")
    parser.add_argument("--warmup", type=int, default=100, help="donations made first, not measured")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--health-seconds", type=float, default=5.0)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop the donations after this long")
    parser.add_argument(
        "--database-url", default="", help="postgres://… (created and dropped); default SQLite"
    )
    ns = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rendao-bench-donations-") as tmp:
        data_dir = Path(tmp)
        env = bench_env(data_dir)
        env.update(
            RENDAO_ENV="development",
            RENDAO_HUEY_IMMEDIATE="false",
            RENDAO_PAYMENT_SANDBOX_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        )
        with bench_database(ns.database_url, env) as engine:
            return _bench(ns, env, data_dir, engine)


def _bench(ns: argparse.Namespace, env: dict[str, str], data_dir: Path, engine: str) -> int:
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    manage(env, "migrate", "--no-input", "-v", "0")
    # This process uses the same settings: the set-up, the sandbox's signing, the checks.
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    project_id = open_project()
    connections.close_all()
    print(f"set-up (migrate, project): {time.monotonic() - started:.1f} s; database: {engine}")

    port = free_port()
    log = data_dir / "gunicorn.log"
    server = start_server(env, port, log)
    try:
        wait_ready(port, server)
        if ns.warmup:
            drive(port, project_id, n=ns.warmup, clients=ns.clients, max_seconds=ns.max_seconds)
        load(port, "/api/v1/health", connections=ns.clients, seconds=1, tool="python")
        health = load(
            port, "/api/v1/health", connections=ns.clients, seconds=ns.health_seconds, tool="python"
        )
        run, seconds = drive(port, project_id, n=ns.n, clients=ns.clients, max_seconds=ns.max_seconds)
    except Exception:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_server(server)

    print(
        f"gunicorn: 2 sync workers on {HOST}:{port}; {ns.clients} client threads; cores: {os.cpu_count()}; "
        f"load average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}"
    )
    print(
        f"/api/v1/health      {health.rps:9.1f} req/s  p50 {health.p50_ms:7.2f} ms  "
        f"p99 {health.p99_ms:7.2f} ms ({health.requests} requests, {health.errors} errors)"
    )
    latencies = sorted(run.latencies)
    rate = run.done / seconds
    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    print(
        f"donations           {rate:9.1f} /s     p50 {p50:7.2f} ms  p99 {p99:7.2f} ms "
        f"({run.done} donations in {seconds:.1f} s, {len(run.failures)} failed)"
    )
    for failure in run.failures[:5]:
        print(f"  failure: {failure}")

    state = books()
    connections.close_all()
    expected = ns.n + ns.warmup
    print(
        f"check: {state['paid']} paid (expected {expected}), journal balanced {state['balanced']}, "
        f"{state['differences']} balance differences, "
        f"raised {state['raised_fen']} fen = paid {state['paid_fen']} fen"
    )
    ok = (
        not run.failures
        and state["paid"] == expected
        and state["balanced"]
        and state["differences"] == 0
        and state["raised_fen"] == state["paid_fen"]
    )
    figures = {
        "engine": engine,
        "donations": run.done,
        "donations_per_s": f"{rate:.1f}",
        "p50_ms": f"{p50:.1f}",
        "p99_ms": f"{p99:.1f}",
        "health_rps": f"{health.rps:.1f}",
        "ratio_to_trivial": f"{rate / health.rps:.3f}",
        "checks": "ok" if ok else "FAILED",
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Where one donation's time goes: SQL statements and cProfile, in process.

    .venv/bin/python bench/profile_donation.py [--donations 50] [--top 30] [--database-url postgres://…]

A fresh SQLite database in a temporary data directory (or, with --database-url,
a PostgreSQL database of that name, created and dropped here), migrated, one open
project (bench/donations.py's set-up); then each donation as bench/donations.py
makes it — POST /api/v1/donations, the sandbox's signed notification, POST
/pay/notify/sandbox/ — through Django's whole stack (test Client) in this
process. Prints the statements of one create and one notification, the
milliseconds of each part, and the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.donations import bench_database, open_project
from bench.http_baseline import bench_env


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--donations", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--database-url", default="")
    ns = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rendao-profile-donation-") as tmp:
        env = bench_env(Path(tmp))
        env.update(
            RENDAO_ENV="development",
            RENDAO_HUEY_IMMEDIATE="false",
            RENDAO_ALLOWED_HOSTS="testserver",
            RENDAO_PAYMENT_SANDBOX_KEY=uuid.uuid4().hex,
        )
        with bench_database(ns.database_url, env):
            os.environ.update(env)
            return _profile(ns)


def _profile(ns: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rendao.funds.payments.sandbox.adapter import SandboxChannel

    call_command("migrate", verbosity=0)
    project_id = open_project()
    client = Client()
    body = json.dumps(
        {"project_id": project_id, "amount_fen": 1_000, "channel": "sandbox", "donor_name": "张三明"}
    )

    def create() -> str:
        response = client.post(
            "/api/v1/donations",
            data=body,
            content_type="application/json",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.content
        out_trade_no: str = response.json()["out_trade_no"]
        return out_trade_no

    def notify(out_trade_no: str) -> None:
        headers, notification = SandboxChannel().pay(out_trade_no)
        response = client.generic(
            "POST", "/pay/notify/sandbox/", notification, content_type="application/json", headers=headers
        )
        assert response.status_code == 200, response.content

    for _ in range(5):
        notify(create())
    with CaptureQueriesContext(connection) as created:
        out_trade_no = create()
    with CaptureQueriesContext(connection) as notified:
        notify(out_trade_no)
    for label, queries in (("create", created), ("notify", notified)):
        print(f"{label}: {len(queries.captured_queries)} statements")
        for query in queries.captured_queries:
            print(f"    {query['sql'][:150]}")

    parts: dict[str, list[float]] = {"create": [], "notify (with pay)": []}
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(ns.donations):
        started = time.perf_counter()
        out_trade_no = create()
        parts["create"].append(time.perf_counter() - started)
        started = time.perf_counter()
        notify(out_trade_no)
        parts["notify (with pay)"].append(time.perf_counter() - started)
    profiler.disable()
    for label, samples in parts.items():
        print(f"{label}: median {statistics.median(samples) * 1000:.2f} ms (under cProfile)")
    pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(ns.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

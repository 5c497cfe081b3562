"""Where the money and goods went, at scale: the donor's page and a warehouse's stock view.

    .venv/bin/python bench/funduse.py [--donations 1000000] [--disbursements 10000] [--lots 100000]
    .venv/bin/python bench/funduse.py --database-url postgres://postgres@127.0.0.1:5432/bench_funduse

In a child process: a fresh database (SQLite in a temporary RENDAO_DATA_DIR, or
a PostgreSQL database of that name, created and dropped), migrated, one open
restricted project (bench/donations.py's set-up). Rows are written in bulk as
the services would leave them, since the read side is what is measured:

- paid donations (bench/project_page.py's insert, COPY on PostgreSQL), and
  disbursements from the project's fund to 20 institutions, each paid in one
  transfer (journal entry, payment, "money paid out" use report) and signed off;
- one warehouse holding lots of 50 items from 1,000-lot intakes, each lot
  received (move row) and in stock.

Two sizes each: small (1,000 donations, 10 disbursements; 1,000 lots) and the
full size. Through Django's whole stack in this process (as bench/mechanisms_inbox.py):

- the donor's "where did my money go" page, /give/d/<follow token>/ of the
  earliest donation, so every disbursement is a use since their gift (a
  capability link, no sign-in), uncached;
- the warehouse keeper's stock view, /staff/goods/warehouses/<pk>/stock/ (first page
  and a page deep in the list), signed in with the second factor;

one warm-up, then --requests timed GETs (p50/p99) and the SQL statements of one
request (an execute wrapper). The statement counts must not grow with the size.

Last line: donor_p99_ms=… donor_queries=… stock_p99_ms=… stock_queries=… …
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ITEMS = [
    ("书包", "儿童款", "个"),
    ("文具套装", "小学", "套"),
    ("医用口罩", "KN95", "只"),
    ("棉被", "1.5m", "床"),
    ("矿泉水", "550ml×24", "箱"),
]
BATCH = 5_000


def _insert_disbursements(project_id: int, count: int, start: int) -> None:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from rendao.core.models import User
    from rendao.disbursements.models import Category, Disbursement, Payment, Status
    from rendao.feedback.models import UseKind, UseReport
    from rendao.funds.accounting import account_open
    from rendao.funds.models import Account, FundraisingProject, JournalEntry, JournalLine
    from rendao.recipients.models import Institution, InstitutionKind

    project = FundraisingProject.objects.get(pk=project_id)
    branch = project.branch
    fund = Account.objects.get(project=project, kind=Account.Kind.RESTRICTED_FUND)
    user = User.objects.get(username="bench")
    with transaction.atomic():
        bank = Account.objects.filter(code=f"BANK-{branch.pk}").first() or account_open(
            code=f"BANK-{branch.pk}", name="Bank", kind=Account.Kind.BANK, branch=branch
        )
        payees = [
            Institution.objects.get_or_create(
                branch=branch, name=f"厦门市第{i + 1}中学", defaults={"kind": InstitutionKind.SCHOOL}
            )[0]
            for i in range(20)
        ]
    now = timezone.now()
    for low in range(start, start + count, BATCH):
        high = min(start + count, low + BATCH)
        with transaction.atomic():
            disbursements = Disbursement.objects.bulk_create(
                Disbursement(
                    number=f"ZB-B-{i:08d}",
                    branch=branch,
                    fund=fund,
                    project=project,
                    payee=payees[i % len(payees)],
                    amount_fen=100_000 + i % 1000,
                    paid_fen=100_000 + i % 1000,
                    purpose="采购书包与文具",
                    category=Category.CHARITABLE,
                    payee_bank_account="0000",
                    status=Status.SIGNED_OFF,
                    requested_by=user,
                    requested_at=now - timedelta(minutes=count - i),
                )
                for i in range(low, high)
            )
            entries = JournalEntry.objects.bulk_create(
                JournalEntry(reason="disbursement", reference=f"disbursement:{d.number}")
                for d in disbursements
            )
            JournalLine.objects.bulk_create(
                line
                for d, e in zip(disbursements, entries, strict=True)
                for line in (
                    JournalLine(entry=e, account=fund, debit_fen=d.amount_fen),
                    JournalLine(entry=e, account=bank, credit_fen=d.amount_fen),
                )
            )
            Payment.objects.bulk_create(
                Payment(
                    disbursement=d,
                    bank_reference=f"BR{d.number}",
                    paid_on=d.requested_at.date(),
                    amount_fen=d.amount_fen,
                    journal_entry=e,
                    ledger_index=2 * i,
                    recorded_by=user,
                )
                for i, (d, e) in enumerate(zip(disbursements, entries, strict=True), start=low)
            )
            UseReport.objects.bulk_create(
                UseReport(
                    project=project,
                    kind=UseKind.MONEY,
                    source=f"disbursement-payment:BR{d.number}",
                    amount_fen=d.amount_fen,
                    recipient=d.payee.name,
                    purpose=d.purpose,
                    ledger_index=2 * i,
                    occurred_at=d.requested_at,
                    notified_at=d.requested_at,
                )
                for i, d in enumerate(disbursements, start=low)
            )


def _insert_lots(warehouse_id: int, count: int, start: int) -> None:
    from datetime import date, timedelta

    from django.db import transaction

    from rendao.core.models import User
    from rendao.goods.models import DonorKind, Intake, Lot, Move, MoveKind, Stock, Warehouse

    warehouse = Warehouse.objects.get(pk=warehouse_id)
    user = User.objects.get(username="bench")
    per_intake = 1_000
    for low in range(start, start + count, per_intake):
        high = min(start + count, low + per_intake)
        with transaction.atomic():
            intake = Intake.objects.create(
                number=f"RK-B-{low:08d}",
                branch=warehouse.branch,
                warehouse=warehouse,
                donor_kind=DonorKind.ORGANISATION,
                organisation_name="厦门某某公司",
                public_name="厦门某某公司",
                received_on=date(2026, 1, 1),
                received_by=user,
            )
            lots = Lot.objects.bulk_create(
                Lot(
                    intake=intake,
                    number=f"{intake.number}-{i - low + 1}",
                    item_name=ITEMS[i % len(ITEMS)][0],
                    specification=ITEMS[i % len(ITEMS)][1],
                    unit=ITEMS[i % len(ITEMS)][2],
                    expires_on=date(2027, 1, 1) + timedelta(days=i % 700),
                    unit_value_fen=1_000,
                    quantity_received=10 + i % 90,
                    quantity_on_hand=10 + i % 90,
                )
                for i in range(low, high)
            )
            Stock.objects.bulk_create(
                Stock(lot=lot, warehouse=warehouse, quantity=lot.quantity_on_hand) for lot in lots
            )
            Move.objects.bulk_create(
                Move(
                    kind=MoveKind.RECEIVE,
                    lot=lot,
                    to_warehouse=warehouse,
                    quantity=lot.quantity_received,
                    reference=f"intake:{intake.number}",
                    actor=user,
                    ledger_index=i,
                )
                for i, lot in enumerate(lots, start=low)
            )


def _timed(client: Any, url: str, requests: int) -> tuple[float, float, int, int]:
    """p50, p99 (ms), statements of one request, response bytes."""
    import time

    from django.db import connection

    from bench._load import percentile

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return (
        round(percentile(samples, 0.5), 2),
        round(percentile(samples, 0.99), 2),
        len(executed),
        len(response.content),
    )


def _child(ns: argparse.Namespace) -> dict[str, float]:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from bench.donations import open_project
    from bench.project_page import insert_donations
    from rendao.conftest import make_staff, signed_in_client
    from rendao.core.models import Role
    from rendao.funds.models import Donation, FundraisingProject
    from rendao.goods.models import Warehouse

    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        ALLOWED_HOSTS=["*"],
    ).enable()
    call_command("migrate", verbosity=0)
    project_id = open_project()
    project = FundraisingProject.objects.get(pk=project_id)
    keeper = make_staff("keeper", project.branch, Role.WAREHOUSE_KEEPER)
    warehouse = Warehouse.objects.create(branch=project.branch, code="CK-BENCH", name="厦门市备灾仓库")
    staff = signed_in_client(keeper)
    public = Client()
    for c in (staff, public):
        c.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    figures: dict[str, float] = {}
    sizes = [
        ("small", min(1_000, ns.donations), min(10, ns.disbursements), min(1_000, ns.lots)),
        ("full", ns.donations, ns.disbursements, ns.lots),
    ]
    done = {"donations": 0, "disbursements": 0, "lots": 0}
    for label, donations, disbursements, lots in sizes:
        insert_donations(project_id, project.branch_id, done["donations"], donations)
        _insert_disbursements(project_id, disbursements - done["disbursements"], done["disbursements"])
        _insert_lots(warehouse.pk, lots - done["lots"], done["lots"])
        done = {"donations": donations, "disbursements": disbursements, "lots": lots}
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # The earliest donor: every use of the project since is theirs to see, the
        # most the page ever lists (it shows the latest USES_SHOWN and counts the rest).
        donor = (
            Donation.objects.filter(project_id=project_id)
            .order_by("paid_at", "id")
            .only("follow_token")
            .first()
        )
        assert donor is not None
        cache.clear()
        p50, p99, queries, size = _timed(public, f"/give/d/{donor.follow_token}/", ns.requests)
        figures |= {
            f"donor_p50_ms_{label}": p50,
            f"donor_p99_ms_{label}": p99,
            f"donor_queries_{label}": queries,
        }
        figures[f"donor_bytes_{label}"] = size
        url = f"/staff/goods/warehouses/{warehouse.pk}/stock/"
        p50, p99, queries, _size = _timed(staff, url, ns.requests)
        figures |= {
            f"stock_p50_ms_{label}": p50,
            f"stock_p99_ms_{label}": p99,
            f"stock_queries_{label}": queries,
        }
        deep = max(1, lots // 50 // 2)
        p50, p99, queries, _size = _timed(staff, f"{url}?page={deep}", ns.requests)
        figures |= {f"stock_deep_p99_ms_{label}": p99, f"stock_deep_queries_{label}": queries}
    return {
        "donor_p99_ms": figures["donor_p99_ms_full"],
        "donor_queries": figures["donor_queries_full"],
        "stock_p99_ms": figures["stock_p99_ms_full"],
        "stock_queries": figures["stock_queries_full"],
        "donations": float(ns.donations),
        "disbursements": float(ns.disbursements),
        "lots": float(ns.lots),
        **figures,
    }


def _line(figures: dict[str, float]) -> str:
    return " ".join(f"{k}={int(v) if float(v).is_integer() else v}" for k, v in figures.items())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--disbursements", type=int, default=10_000)
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        figures = _child(ns)
        print("FIGURES " + json.dumps(figures))
        return 0

    from bench.donations import bench_database

    # bench_database closes this process's (unused) connections when it drops the
    # database, which needs the settings to be importable here too.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rendao.settings")

    with tempfile.TemporaryDirectory(prefix="rendao-bench-funduse-") as tmp:
        env = {**os.environ}
        for name in list(env):
            if name.startswith("RENDAO_") or name in {"DATABASE_URL", "REDIS_URL"}:
                del env[name]
        env.update(
            RENDAO_DATA_DIR=tmp,
            DJANGO_SETTINGS_MODULE="rendao.settings",
            RENDAO_ENV="development",
            RENDAO_LOG_LEVEL="WARNING",
        )
        with bench_database(ns.database_url, env) as engine:
            args = [
                f"--donations={ns.donations}",
                f"--disbursements={ns.disbursements}",
                f"--lots={ns.lots}",
                f"--requests={ns.requests}",
            ]
            out = subprocess.run(
                [sys.executable, __file__, "--child", *args],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(out.stdout[-3000:], out.stderr[-6000:])
                return out.returncode
            line = next(x for x in out.stdout.splitlines() if x.startswith("FIGURES "))
            figures = json.loads(line.removeprefix("FIGURES "))
            print(f"engine={engine}")
            print(_line(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

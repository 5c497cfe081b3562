"""What the transparency log costs and how fast it answers (issue #4).

    .venv/bin/python bench/ledger.py [--tx 300] [--proof-size 1000000] [--verify-size 1000000]

Runs on its own: a temporary data directory and SQLite database, migrated by
the script, removed afterwards; PostgreSQL only if 127.0.0.1:5432 answers (user
postgres), in a scratch database the script creates and drops.

Figures (last line, name=value):
- tx_plain_ms, tx_logged_ms: one donation-sized transaction (three business
  rows: audit events, with their own hash chain) committed, without and with a
  ledger_append, median of alternating rounds; append_overhead = logged/plain - 1
  (goal ≤ 0.10); appends_per_s = 1000 / tx_logged_ms (one append a transaction).
  The same with a _pg suffix on PostgreSQL.
- proof_p50_ms, proof_p99_ms, proof_bytes: GET /api/v1/ledger/proof/inclusion for
  random indexes at tree size proof_size, through Django's whole stack (test
  Client), over 1,000 requests; the tree's hashes are bulk-inserted NodeHash rows
  of a synthetic tree (build_s: how long that took).
- checkpoint_delay_p50_s, checkpoint_delay_p99_s: from an append's commit to the
  creation of the first checkpoint covering it, with the huey consumer running as
  in production (`rendao worker`, checkpoints scheduled on commit).
- verify_s: `rendao verify`'s tree recomputation (rendao.ledger.verify
  Client.verify_tree) over verify_size served entries, from an in-memory fetch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
ROWS_PER_DONATION = 3


def _setup(data_dir: Path, database_url: str) -> None:
    os.environ["RENDAO_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "rendao.settings"
    os.environ["RENDAO_ENV"] = "development"
    os.environ["RENDAO_HUEY_IMMEDIATE"] = "false"
    os.environ.setdefault("RENDAO_LOG_LEVEL", "WARNING")
    # From one address the anonymous API throttle would refuse all but the first
    # 120 proofs; an empty rate switches it off, so the endpoint is what is timed.
    os.environ["RENDAO_API_ANON_RATE"] = ""
    for name in ("RENDAO_LEDGER_KEY_FILE", "RENDAO_LEDGER_ORIGIN", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- appends inside a business transaction ------------------------------------------


def _donation(i: int, *, logged: bool) -> None:
    from django.db import transaction

    from rendao.core.audit import audit_record
    from rendao.ledger.models import EntryKind
    from rendao.ledger.services import commitment, ledger_append, new_salt

    with transaction.atomic():
        for part in range(ROWS_PER_DONATION):
            audit_record(
                actor=None,
                action="bench.donation_row",
                object_type="bench",
                object_id=str(i),
                after={"part": part, "amount_fen": 1000 + i},
            )
        if logged:
            ledger_append(
                kind=EntryKind.DONATION_RECEIVED,
                payload={"amount_fen": 1000 + i, "donor": commitment(new_salt(), f"d{i}"), "project": "P-1"},
            )


def bench_appends(tx: int, rounds: int = 6) -> dict[str, float]:
    """Alternate plain and logged rounds so drift on a shared machine hits both."""
    plain: list[float] = []
    logged: list[float] = []
    i = 0
    for _ in range(rounds):
        for is_logged, out in ((False, plain), (True, logged)):
            start = time.perf_counter()
            for _ in range(tx // rounds):
                _donation(i, logged=is_logged)
                i += 1
            out.append((time.perf_counter() - start) / (tx // rounds) * 1000)
    plain_ms, logged_ms = statistics.median(plain), statistics.median(logged)
    return {
        "tx_plain_ms": plain_ms,
        "tx_logged_ms": logged_ms,
        "append_overhead": logged_ms / plain_ms - 1,
        "appends_per_s": 1000 / logged_ms,
    }


# --- inclusion proofs at a large size ------------------------------------------------


def _build_synthetic_tree(size: int) -> tuple[bytes, float]:
    """Bulk-insert every complete subtree hash of a tree of `size` synthetic leaves."""
    import hashlib

    from django.db import connection, transaction

    from rendao.ledger import merkle
    from rendao.ledger.models import NodeHash

    table = connection.ops.quote_name(NodeHash._meta.db_table)
    sql = f'INSERT INTO {table} (level, "index", hash) VALUES (%s, %s, %s)'  # noqa: S608
    start = time.perf_counter()
    level, row = 0, [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size)]
    leaves = row
    with transaction.atomic(), connection.cursor() as cursor:
        while row:
            for chunk in range(0, len(row), 50_000):
                cursor.executemany(
                    sql, [(level, chunk + j, h) for j, h in enumerate(row[chunk : chunk + 50_000])]
                )
            row = [merkle.node_hash(row[k], row[k + 1]) for k in range(0, len(row) - 1, 2)]
            level += 1
    root = merkle.root_from_leaf_hashes(leaves)
    return root, time.perf_counter() - start


def _publish_checkpoint(size: int, root: bytes) -> None:
    """Sign a checkpoint over the synthetic tree, as the job would have."""
    from django.db import transaction
    from django.utils import timezone

    from rendao.ledger.keys import ledger_origin, ledger_signer
    from rendao.ledger.models import Checkpoint, LedgerHead
    from rendao.ledger.note import Checkpoint as CheckpointBody
    from rendao.ledger.note import sign_note

    note = sign_note(CheckpointBody(origin=ledger_origin(), size=size, root=root).text(), ledger_signer())
    with transaction.atomic():
        Checkpoint.objects.create(size=size, root=root, note=note, created_at=timezone.now())
        LedgerHead.objects.filter(pk=1).update(size=size)


def bench_proofs(size: int, requests: int = 1000) -> dict[str, float]:
    from django.test import Client

    root, build_s = _build_synthetic_tree(size)
    _publish_checkpoint(size, root)
    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(6962)
    client.get(f"/api/v1/ledger/proof/inclusion?index=0&size={size}")  # warm-up
    samples: list[float] = []
    sizes: list[int] = []
    for _ in range(requests):
        index = rng.randrange(size)
        start = time.perf_counter()
        response = client.get(f"/api/v1/ledger/proof/inclusion?index={index}&size={size}")
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:300]
        sizes.append(len(response.content))
    return {
        "proof_size": size,
        "build_s": build_s,
        "proof_p50_ms": _p(samples, 0.5),
        "proof_p99_ms": _p(samples, 0.99),
        "proof_bytes": statistics.median(sizes),
    }


# --- delay from commit to a covering checkpoint --------------------------------------


def bench_checkpoint_delay(appends: int = 50) -> dict[str, float]:
    """The huey consumer runs as `rendao worker` does; appends are spread at random."""
    from datetime import UTC, datetime

    from rendao.ledger.models import Checkpoint, LedgerHead

    consumer = subprocess.Popen(
        [sys.executable, "-m", "rendao.cli", "worker"],
        env=dict(os.environ),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(2)  # the consumer's start-up
        rng = random.Random(9162)
        first = LedgerHead.objects.get(pk=1).size
        committed: list[datetime] = []
        for i in range(appends):
            _donation(first + i, logged=True)
            committed.append(datetime.now(UTC))
            time.sleep(rng.uniform(0, 0.4))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            latest = Checkpoint.objects.order_by("-id").first()
            if latest is not None and latest.size >= first + appends:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("no checkpoint covered the appends within 60 s")
        checkpoints = list(
            Checkpoint.objects.filter(size__gt=first).order_by("id").values_list("size", "created_at")
        )
        delays = []
        for i, at in enumerate(committed):
            covering = next(created for size, created in checkpoints if size > first + i)
            delays.append((covering - at).total_seconds())
    finally:
        os.killpg(consumer.pid, signal.SIGTERM)
        consumer.wait(timeout=30)
    return {"checkpoint_delay_p50_s": _p(delays, 0.5), "checkpoint_delay_p99_s": _p(delays, 0.99)}


# --- full verification ------------------------------------------------------------


def bench_verify(size: int) -> dict[str, float]:
    """Serve `size` synthetic leaves as entry bundles from memory; time verify_tree."""
    from rendao.ledger import merkle, note, verify

    signer = note.Signer(name="bench.example/ledger", private_key=_new_key())
    bundles: dict[str, bytes] = {}
    leaves: list[bytes] = []
    for n in range(0, size, note.TILE_WIDTH):
        width = min(note.TILE_WIDTH, size - n)
        parts = []
        for index in range(n, n + width):
            data = json.dumps(
                {"v": 1, "kind": "donation_received", "at": "2026-11-28T15:00:00.000000Z", "index": index,
                 "amount_fen": 1000 + index, "donor": "ab" * 32, "project": "P-1"},
                sort_keys=True, separators=(",", ":"),
            ).encode()  # fmt: skip
            leaves.append(merkle.leaf_hash(data))
            parts.append(len(data).to_bytes(2, "big") + data)
        suffix = "" if width == note.TILE_WIDTH else f".p/{width}"
        bundles[f"/ledger/tile/entries/{note.tile_index_path(n // note.TILE_WIDTH)}{suffix}"] = b"".join(
            parts
        )
    body = note.Checkpoint(origin=signer.name, size=size, root=merkle.root_from_leaf_hashes(leaves))
    checkpoint = verify.verify_checkpoint_note(note.sign_note(body.text(), signer), signer.verifier)
    client = verify.Client(bundles.__getitem__)
    start = time.perf_counter()
    client.verify_tree(checkpoint, check_tiles=False)
    return {"verify_size": size, "verify_s": time.perf_counter() - start}


def _new_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


# --- PostgreSQL, in a child process (settings are per process) ------------------------


def _pg_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


def bench_pg(tx: int) -> dict[str, float]:
    import psycopg

    name = f"rendao_bench_ledger_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child-pg", name, "--tx", str(tx)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return {f"{k}_pg": v for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tx", type=int, default=300, help="transactions per variant (plain, logged)")
    parser.add_argument("--proof-size", type=int, default=1_000_000)
    parser.add_argument("--verify-size", type=int, default=1_000_000)
    parser.add_argument("--delay-appends", type=int, default=50)
    parser.add_argument("--child-pg", default="", help=argparse.SUPPRESS)
    ns = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="rendao-bench-ledger-"))
    try:
        if ns.child_pg:
            _setup(data_dir, f"postgres://postgres@127.0.0.1:5432/{ns.child_pg}")
            print(json.dumps(bench_appends(ns.tx)))
            return
        _setup(data_dir, f"sqlite:///{data_dir / 'bench.sqlite3'}")
        figures: dict[str, float] = {}
        # The synthetic tree first, into empty tables; the appends then extend it,
        # so they are measured on a log of proof_size entries, not an empty one.
        figures.update(bench_proofs(ns.proof_size))
        figures.update(bench_appends(ns.tx))
        figures.update(bench_checkpoint_delay(ns.delay_appends))
        figures.update(bench_verify(ns.verify_size))
        if _pg_reachable():
            figures.update(bench_pg(ns.tx))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()

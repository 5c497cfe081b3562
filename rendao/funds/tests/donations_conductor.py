"""The subject of the donation concurrency test: real worker processes paying real orders.

    RENDAO_DATA_DIR=… DATABASE_URL=… python -m rendao.funds.tests.donations_conductor RESULT.json [--orders N]

Run by test_donations_concurrency.py in a process of its own, against a database
of its own (a SQLite file in a temporary directory, or a scratch PostgreSQL
database): the test's database lives inside the test's transaction (or in
memory) where no other process can see it.

The conductor migrates, opens a project, creates the orders (bulk, status
paying, each registered at the sandbox) and their notifications (1–5 per order,
each freshly signed by `SandboxChannel.pay`), shuffles them and hands them to
worker processes forked from it (each with a database connection of its own)
like a message queue with acknowledgements: a worker takes a few messages,
calls `notification_receive` for each and acks it after it returns. Some workers
are killed with SIGKILL mid-run; their un-acked messages go to the others and a
new worker takes the killed one's place. Then forged notifications of every kind
go the same way. The conductor writes what it saw and what the database holds
to RESULT.json; the test makes the assertions.

Bounded: a fixed number of messages, every wait has a timeout, and a deadline
for the whole run; only local files and the loopback database.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import secrets
import signal
import sys
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

WORKERS = 12
KILLS = 3
# Messages a worker holds un-acked at once (what a killed worker loses).
PREFETCH = 3
DEADLINE_S = 240
SEED = 20261128
# Notifications per order: 1 to 5, fewer more often (as channels retry: most
# orders get one or two deliveries), ~2.3 on average.
DUPLICATES = (1, 2, 3, 4, 5)
DUPLICATE_WEIGHTS = (4, 3, 2, 1, 1)

# (channel, headers, body, kind)
Message = tuple[str, dict[str, str], bytes, str]


def _configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rendao.settings")
    import django

    django.setup()


# --- the worker --------------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """A worker: receive (id, message), handle it, ack with the reply's status."""
    from django.db import connections

    from rendao.funds.donations import notification_receive

    # Forked from the conductor, which closed its connections first (Pool.start):
    # the first query opens this worker's own.
    conn.send(("ready", os.getpid()))
    while True:
        item = conn.recv()
        if item is None:
            break
        mid, (channel, headers, body, _kind) = item
        try:
            reply = notification_receive(channel, headers, body, remote_ip="127.0.0.1")
            conn.send((mid, reply.status, ""))
        except Exception as exc:
            conn.send((mid, 500, f"{type(exc).__name__}: {exc}"))
    connections.close_all()
    conn.close()


@dataclass
class Worker:
    proc: BaseProcess
    conn: Connection
    inflight: set[int] = field(default_factory=set)


@dataclass
class Delivery:
    statuses: dict[int, list[int]] = field(default_factory=dict)
    redelivered: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    killed: int = 0
    workers_started: int = 0
    max_concurrent: int = 0


class Pool:
    def __init__(self) -> None:
        from django.db import connections

        self._connections = connections
        self.ctx = get_context("fork")
        self.workers: list[Worker] = []
        self.started = 0

    def start(self) -> Worker:
        # Nothing open to inherit: each worker opens its own connection.
        self._connections.close_all()
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_serve, args=(child,), daemon=True)
        proc.start()
        child.close()
        worker = Worker(proc, parent)
        self.workers.append(worker)
        self.started += 1
        return worker

    def wait_ready(self, worker: Worker) -> None:
        if not worker.conn.poll(60):
            raise RuntimeError("a worker did not start")
        assert worker.conn.recv()[0] == "ready"

    def stop(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self.workers:
            worker.proc.join(30)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join(10)
        self.workers = []


def deliver(
    pool: Pool, messages: list[Message], *, kills: int, rng: random.Random, deadline: float
) -> Delivery:
    """Deliver every message until each is acked; kill `kills` workers along the way."""
    out = Delivery()
    pending: deque[int] = deque(range(len(messages)))
    acked: set[int] = set()
    # Kill points spread over the run: after 15 %, 40 %, 65 %… of the acks.
    thresholds = [int(len(messages) * (0.15 + 0.25 * k)) for k in range(kills)]
    while len(acked) < len(messages):
        if time.monotonic() > deadline:
            raise RuntimeError(f"deadline passed with {len(messages) - len(acked)} messages un-acked")
        for worker in pool.workers:
            while pending and len(worker.inflight) < PREFETCH:
                mid = pending.popleft()
                worker.inflight.add(mid)
                worker.conn.send((mid, messages[mid]))
        out.max_concurrent = max(out.max_concurrent, sum(1 for w in pool.workers if w.inflight))
        by_conn = {id(w.conn): w for w in pool.workers}
        for ready in wait([w.conn for w in pool.workers], timeout=5):
            worker = by_conn[id(ready)]
            try:
                while worker.conn.poll():
                    mid, status, error = worker.conn.recv()
                    worker.inflight.discard(mid)
                    if mid in acked:
                        continue
                    if status == 500:
                        # Not acked: a 5xx makes a channel deliver again.
                        out.errors.append(error)
                        pending.append(mid)
                        continue
                    acked.add(mid)
                    out.statuses.setdefault(mid, []).append(status)
            except (EOFError, OSError):
                out.errors.append(f"worker {worker.proc.pid} died on its own")
                _lose(pool, worker, pending, out)
        if out.killed < kills and len(acked) >= thresholds[out.killed]:
            victims = [w for w in pool.workers if w.inflight]
            if victims:
                victim = rng.choice(victims)
                # Mid-transaction or between two: wherever it happens to be.
                time.sleep(rng.uniform(0, 0.005))
                os.kill(victim.proc.pid or 0, signal.SIGKILL)
                victim.proc.join(10)
                out.killed += 1
                _lose(pool, victim, pending, out)
                pool.wait_ready(pool.start())
    return out


def _lose(pool: Pool, worker: Worker, pending: deque[int], out: Delivery) -> None:
    """The worker is gone: its un-acked messages are delivered again, to others."""
    for mid in sorted(worker.inflight):
        out.redelivered.add(mid)
        pending.appendleft(mid)
    worker.inflight.clear()
    worker.conn.close()
    pool.workers.remove(worker)


# --- the data ----------------------------------------------------------------------------


def prepare(n_orders: int, rng: random.Random) -> tuple[list[str], list[Message]]:
    """Open a project, create `n_orders` paying orders and 1–5 signed notifications of each."""
    from datetime import timedelta

    from django.utils import timezone

    from rendao.core.models import Branch, User
    from rendao.funds.donations import new_out_trade_no
    from rendao.funds.models import Donation, DonationStatus
    from rendao.funds.payments import ClientInfo
    from rendao.funds.payments.sandbox.adapter import SandboxChannel
    from rendao.funds.tests.factories import open_project
    from rendao.ledger.services import commitment, new_salt

    city = Branch.objects.add_root(
        instance=Branch(name="厦门市红十字会", kind=Branch.Kind.CITY, division_code="350200000000")
    )
    creator = User.objects.create_user("conductor", display_name="conductor")
    project = open_project(city, creator)
    now = timezone.now()
    orders = []
    for i in range(n_orders):
        salt = new_salt()
        out_trade_no = new_out_trade_no(now)
        orders.append(
            Donation(
                out_trade_no=out_trade_no,
                project=project,
                branch_id=city.pk,
                channel="sandbox",
                amount_fen=rng.randint(100, 500_000),
                status=DonationStatus.PAYING,
                anonymous=i % 3 == 0,
                donor_name="" if i % 3 == 0 else "张三明",
                public_name="爱心人士" if i % 3 == 0 else "张*明",
                receipt_wanted=i % 4 != 0,
                commitment_salt=salt.hex(),
                commitment=commitment(salt, out_trade_no),
                follow_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + timedelta(minutes=30),
            )
        )
    Donation.objects.bulk_create(orders, batch_size=500)
    channel = SandboxChannel()
    messages: list[Message] = []
    for order in orders:
        channel.create_order(
            order_ref=order.out_trade_no,
            amount_fen=order.amount_fen,
            description="test",
            notify_url="http://127.0.0.1/pay/notify/sandbox/",
            client=ClientInfo(),
        )
        for _ in range(rng.choices(DUPLICATES, DUPLICATE_WEIGHTS)[0]):
            headers, body = channel.pay(order.out_trade_no)
            messages.append(("sandbox", headers, body, "honest"))
    rng.shuffle(messages)
    return [o.out_trade_no for o in orders], messages


FORGED_KINDS = {
    # kind: the reason it must be recorded with
    "bad_signature": "forged",
    "wrong_key": "forged",
    "stale_timestamp": "forged",
    "tampered_body": "forged",
    "missing_headers": "malformed",
    "malformed_body": "malformed",
    "amount_mismatch": "amount_mismatch",
    "unknown_order": "unknown_order",
    "replayed_nonce": "replayed",
    "txn_of_another_order": "txn_mismatch",
    "unknown_channel": "unknown_channel",
}


def forge(honest: list[Message], per_kind: int, rng: random.Random) -> list[Message]:
    """Forged notifications of every kind, each body different from every other's."""
    from rendao.funds import payments
    from rendao.funds.payments.sandbox.adapter import SandboxChannel

    # One honest message per order (bodies of one order's duplicates are equal).
    by_order: dict[str, tuple[dict[str, str], bytes]] = {}
    for _channel, headers, body, _kind in honest:
        by_order.setdefault(json.loads(body)["out_trade_no"], (headers, body))
    orders = sorted(by_order)
    rng.shuffle(orders)
    out: list[Message] = []

    def signed(body: bytes, **kw: Any) -> dict[str, str]:
        return SandboxChannel.signed_headers(body, **kw)

    def fields(order: str, i: int, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(by_order[order][1])
        # A payer reference of its own makes each forged body unique.
        data["payer_ref"] = f"forged-{kind}-{i}"
        return data

    def dumps(data: dict[str, Any]) -> bytes:
        return json.dumps(data, separators=(",", ":")).encode()

    for i in range(per_kind):
        a, b = orders[(2 * i) % len(orders)], orders[(2 * i + 1) % len(orders)]
        body = dumps(fields(a, i, "bad_signature"))
        headers = signed(body)
        headers["X-Sandbox-Signature"] = secrets.token_hex(32)
        out.append(("sandbox", headers, body, "bad_signature"))

        body = dumps(fields(a, i, "wrong_key"))
        out.append(("sandbox", signed(body, key=secrets.token_hex(32)), body, "wrong_key"))

        body = dumps(fields(a, i, "stale_timestamp"))
        out.append(("sandbox", signed(body, at=payments.clock() - 3600), body, "stale_timestamp"))

        data = fields(a, i, "tampered_body")
        body = dumps(data)
        headers = signed(body)
        data["amount_fen"] += 1  # changed after signing
        out.append(("sandbox", headers, dumps(data), "tampered_body"))

        body = dumps(fields(a, i, "missing_headers"))
        out.append(("sandbox", {"X-Sandbox-Nonce": secrets.token_hex(16)}, body, "missing_headers"))

        body = f"not json {i} {{".encode()
        out.append(("sandbox", signed(body), body, "malformed_body"))

        data = fields(a, i, "amount_mismatch")
        data["amount_fen"] += rng.choice([-1, 1, 100])
        body = dumps(data)
        out.append(("sandbox", signed(body), body, "amount_mismatch"))

        data = fields(a, i, "unknown_order")
        data["out_trade_no"] = f"RD20990101{secrets.token_hex(8).upper()}"
        body = dumps(data)
        out.append(("sandbox", signed(body), body, "unknown_order"))

        # Exactly a notification already delivered and accepted: its nonce is stored.
        headers, body = by_order[orders[i % len(orders)]]
        out.append(("sandbox", dict(headers), body, "replayed_nonce"))

        data = fields(a, i, "txn_of_another_order")
        data["txn_id"] = json.loads(by_order[b][1])["txn_id"]
        body = dumps(data)
        out.append(("sandbox", signed(body), body, "txn_of_another_order"))

        body = dumps(fields(a, i, "unknown_channel"))
        out.append(("nosuchpay", signed(body), body, "unknown_channel"))
    rng.shuffle(out)
    return out


# --- what the database holds -----------------------------------------------------------------


def snapshot() -> str:
    """A digest of everything a notification may change (not the rejection log)."""
    from rendao.funds.models import (
        Account,
        Donation,
        FundraisingProject,
        JournalEntry,
        JournalLine,
        NotificationNonce,
        Receipt,
    )
    from rendao.ledger.models import Entry

    state = {
        "donations": list(
            Donation.objects.order_by("pk").values_list(
                "pk",
                "status",
                "channel_txn_id",
                "paid_at",
                "journal_entry_id",
                "ledger_index",
                "refund_flagged",
            )
        ),
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "balance_fen")),
        "projects": list(
            FundraisingProject.objects.order_by("pk").values_list("pk", "raised_fen", "donation_count")
        ),
        "entries": JournalEntry.objects.count(),
        "lines": JournalLine.objects.count(),
        "nonces": NotificationNonce.objects.count(),
        "receipts": Receipt.objects.count(),
        "leaves": Entry.objects.count(),
    }
    return hashlib.sha256(json.dumps(state, default=str, sort_keys=True).encode()).hexdigest()


def summary(orders: list[str]) -> dict[str, Any]:
    from django.db.models import Count, Sum

    from rendao.funds.accounting import accounts_recompute
    from rendao.funds.models import Donation, FundraisingProject, JournalEntry, NotificationRejection
    from rendao.ledger.models import Entry

    donations = Donation.objects.filter(out_trade_no__in=orders)
    paid = donations.filter(status="paid")
    entries_per_order = Counter(
        ref.removeprefix("donation:")
        for ref in JournalEntry.objects.filter(reference__startswith="donation:").values_list(
            "reference", flat=True
        )
    )
    leaves_per_order: Counter[str] = Counter()
    for data in Entry.objects.filter(kind="donation_received").values_list("data", flat=True):
        leaves_per_order[json.loads(bytes(data))["donation"]] += 1
    result = accounts_recompute()
    project = FundraisingProject.objects.get()
    return {
        "orders": len(orders),
        "ordered_fen": donations.aggregate(s=Sum("amount_fen"))["s"],
        "paid": paid.count(),
        "paid_fen": paid.aggregate(s=Sum("amount_fen"))["s"],
        "statuses": dict(Counter(donations.values_list("status", flat=True))),
        "distinct_txn_ids": paid.values("channel_txn_id").distinct().count(),
        "distinct_ledger_indexes": paid.values("ledger_index").distinct().count(),
        "orders_with_one_entry": sum(1 for o in orders if entries_per_order[o] == 1),
        "entries_total": sum(entries_per_order.values()),
        "orders_with_one_leaf": sum(1 for o in orders if leaves_per_order[o] == 1),
        "leaves_total": sum(leaves_per_order.values()),
        "balanced": result.balanced,
        "total_debit_fen": result.total_debit_fen,
        "differences": [d.account.code for d in result.differences],
        "raised_fen": project.raised_fen,
        "donation_count": project.donation_count,
        "rejections": dict(
            NotificationRejection.objects.values_list("reason")
            .annotate(n=Count("id"))
            .values_list("reason", "n")
        ),
        "last_rejection_id": NotificationRejection.objects.order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0,
    }


def rejections_after(last_id: int) -> list[tuple[str, str]]:
    from rendao.funds.models import NotificationRejection

    return list(
        NotificationRejection.objects.filter(id__gt=last_id)
        .order_by("id")
        .values_list("body_sha256", "reason")
    )


# --- the run ------------------------------------------------------------------------------------


def run(n_orders: int, forged_per_kind: int, workers: int = WORKERS) -> dict[str, Any]:
    from django.core.management import call_command

    started = time.monotonic()
    deadline = started + DEADLINE_S
    rng = random.Random(SEED)
    call_command("migrate", verbosity=0)
    migrated = time.monotonic()
    orders, honest = prepare(n_orders, rng)
    prepared = time.monotonic()
    pool = Pool()
    try:
        for worker in [pool.start() for _ in range(workers)]:
            pool.wait_ready(worker)
        honest_delivery = deliver(pool, honest, kills=KILLS, rng=rng, deadline=deadline)
        delivered = time.monotonic()
        after_honest = summary(orders)
        forged = forge(honest, forged_per_kind, rng)
        before = snapshot()
        forged_delivery = deliver(pool, forged, kills=0, rng=rng, deadline=deadline)
        after = snapshot()
        rejected = rejections_after(after_honest["last_rejection_id"])
    finally:
        pool.stop()
    honest_kinds = Counter(len(s) for s in honest_delivery.statuses.values())
    return {
        "honest": {
            "messages": len(honest),
            "acked": len(honest_delivery.statuses),
            "acked_once": honest_kinds.get(1, 0),
            "status_counts": dict(Counter(s for st in honest_delivery.statuses.values() for s in st)),
            "refused_not_redelivered": sum(
                1
                for mid, st in honest_delivery.statuses.items()
                if st != [200] and mid not in honest_delivery.redelivered
            ),
            "redelivered": len(honest_delivery.redelivered),
            "errors": honest_delivery.errors,
            "killed": honest_delivery.killed,
            "max_concurrent": honest_delivery.max_concurrent,
        },
        "workers_started": pool.started,
        "after_honest": after_honest,
        "forged": {
            "messages": len(forged),
            "by_kind": dict(Counter(m[3] for m in forged)),
            "accepted": sum(1 for st in forged_delivery.statuses.values() if 200 in st),
            "acked": len(forged_delivery.statuses),
            "errors": forged_delivery.errors,
            "distinct_bodies": len({hashlib.sha256(m[2]).hexdigest() for m in forged}),
            "expected": {hashlib.sha256(m[2]).hexdigest(): FORGED_KINDS[m[3]] for m in forged},
            "recorded": rejected,
            "state_unchanged": before == after,
        },
        "after_forged": summary(orders),
        "seconds": {
            "migrate": migrated - started,
            "prepare": prepared - migrated,
            "honest": delivered - prepared,
            "total": time.monotonic() - started,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("result")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--forged-per-kind", type=int, default=50)
    parser.add_argument("--workers", type=int, default=WORKERS)
    ns = parser.parse_args(argv)
    _configure()
    try:
        result: dict[str, Any] = run(ns.orders, ns.forged_per_kind, ns.workers)
    except Exception:
        result = {"crash": traceback.format_exc()}
    with open(ns.result, "w", encoding="utf-8") as out:
        json.dump(result, out, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())

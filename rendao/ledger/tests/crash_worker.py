"""The subject of the crash test: appends to the ledger until it is killed.

    RENDAO_DATA_DIR=… DATABASE_URL=sqlite:///… python -m rendao.ledger.tests.crash_worker [--appends N]

Each round is one donation-sized transaction, as a giving service will run it:
three business rows (audit events stand in for the donation, its receipt and
the fund movement: real tables with a hash chain of their own) and one
ledger_append. Every few rounds it signs a checkpoint, as the checkpointing job
does, so that kills land inside signing too. It prints "ready" once Django is
set up, so the test times its kill from there rather than from process start.
With --appends N it stops by itself after N rounds and a last checkpoint.
"""

from __future__ import annotations

import argparse
import os
import sys

ROWS_PER_DONATION = 3
CHECKPOINT_EVERY = 5
ACTION = "crash_test.donation_row"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=0, help="stop after this many (0: never)")
    ns = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rendao.settings")
    import django

    django.setup()
    from django.db import transaction

    from rendao.core.audit import audit_record
    from rendao.ledger.models import EntryKind
    from rendao.ledger.services import commitment, ledger_append, ledger_checkpoint_sign, new_salt

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    done = 0
    while not ns.appends or done < ns.appends:
        with transaction.atomic():
            for part in range(ROWS_PER_DONATION):
                audit_record(
                    actor=None,
                    action=ACTION,
                    object_type="crash_test",
                    object_id=f"{os.getpid()}-{done}",
                    after={"part": part, "amount_fen": 1000 + done},
                )
            ledger_append(
                kind=EntryKind.DONATION_RECEIVED,
                payload={"amount_fen": 1000 + done, "donor": commitment(new_salt(), f"donor-{done}")},
            )
        done += 1
        if done % CHECKPOINT_EVERY == 0:
            ledger_checkpoint_sign()
    ledger_checkpoint_sign()
    return 0


if __name__ == "__main__":
    sys.exit(main())

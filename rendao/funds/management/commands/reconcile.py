"""`rendao manage reconcile --channel wechatpay [--date 2026-05-01] [--file bill.csv]`

Reconciles one channel's bill of one China day (yesterday by default) with our
records: downloads it from the channel, or reads the file finance saved from the
merchant platform. Prints the counts, totals and every difference. Exit status 0
when the day balances, 1 when there are differences or the bill was refused.
Running it again on the same bill shows the run already stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.funds.models import ReconciliationRun
from rendao.funds.reconciliation import china_today, reconcile


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}") from None


class Command(BaseCommand):
    help = "Reconcile a payment channel's daily bill with our records; exit 1 on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="sandbox, wechatpay or alipay")
        parser.add_argument("--date", help="the bill's day, YYYY-MM-DD (China time); default yesterday")
        parser.add_argument("--file", help="a bill file to import instead of downloading it")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["date"]) if options["date"] else china_today() - timedelta(days=1)
        raw = None
        if options["file"]:
            try:
                raw = Path(options["file"]).read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        try:
            run = reconcile(channel=options["channel"], day=day, raw=raw)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self._print(run)
        count = run.differences.count()
        if count:
            raise CommandError(f"{count} difference(s)", returncode=1)

    def _print(self, run: ReconciliationRun) -> None:
        self.stdout.write(
            f"{run.channel} {run.day}: {run.status} (run {run.pk}, bill sha256 {run.bill_sha256[:12]}…)\n"
            f"  bill rows {run.bill_count}, local records {run.local_count}, matched {run.matched_count}\n"
            f"  paid: channel {run.channel_paid_fen} fen, local {run.local_paid_fen} fen\n"
            f"  refunded: channel {run.channel_refunded_fen} fen, local {run.local_refunded_fen} fen"
        )
        for difference in run.differences.all():
            refund = f" refund {difference.out_refund_no}" if difference.out_refund_no else ""
            self.stdout.write(
                f"  {difference.kind}: order {difference.out_trade_no}{refund}"
                f" channel {difference.channel_amount_fen} fen, local {difference.local_amount_fen} fen"
                f" {difference.note}".rstrip()
            )

"""Create the checkpoint signing key once: `rendao manage ledger_keygen`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.ledger.keys import ledger_origin, write_new_key


class Command(BaseCommand):
    help = "Create the Ed25519 key that signs the transparency log's checkpoints (never overwrites)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="Where to write it (default: RENDAO_LEDGER_KEY_FILE).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"] or settings.LEDGER_KEY_FILE)
        try:
            signer = write_new_key(path, ledger_origin())
        except FileExistsError:
            raise CommandError(f"{path} exists: a log keeps its key (a new key is a new log).") from None
        self.stdout.write(f"Wrote {path} (mode 0600). Publish this verifier key:\n")
        self.stdout.write(signer.verifier.encode() + "\n")

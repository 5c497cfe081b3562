"""Re-encrypt personal fields under the current vault key; recompute blind indexes.

    rendao manage vault_rotate [--batch 500] [--dry-run] [--reindex]

Rotation: put the new key first in RENDAO_VAULT_KEYS (keep the old ones), run
this, and drop an old key once the report shows nothing left under it.
--reindex: after changing RENDAO_VAULT_INDEX_KEY, recompute every blind index
from the opened values (the old index values are useless under the new key).

Every model field that is an EncryptedTextField is found through the app
registry, so a new app's vault fields are rotated without touching this file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from rendao.privacy.crypto import VaultError, decrypt, key_id_of
from rendao.privacy.fields import BlindIndexField, EncryptedTextField, index_for
from rendao.privacy.keyring import keyring, reset_keyring_cache

# Annotation name of the stored (sealed) text: a Cast to a plain TextField has
# no from_db_value, so the ORM hands back the ciphertext itself.
RAW = "_vault_raw"


@dataclass
class FieldReport:
    label: str
    # key id → rows found under it before this run ("" for values that are not sealed)
    by_key: Counter[str] = field(default_factory=Counter)
    rewritten: int = 0
    unreadable: int = 0


def vault_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    found = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedTextField):
                found.append((model, f))
    return sorted(found, key=lambda mf: (mf[0]._meta.label_lower, mf[1].name))


def index_fields() -> list[tuple[type[models.Model], BlindIndexField]]:
    found = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, BlindIndexField):
                found.append((model, f))
    return sorted(found, key=lambda mf: (mf[0]._meta.label_lower, mf[1].name))


def _raw_rows(model: type[models.Model], name: str) -> models.QuerySet[Any]:
    rows: models.QuerySet[Any] = (
        model._base_manager.annotate(**{RAW: Cast(name, models.TextField())})
        .exclude(**{f"{RAW}__isnull": True})
        .exclude(**{RAW: ""})
        .order_by("pk")
    )
    return rows


def rotate_field(
    model: type[models.Model], f: EncryptedTextField, *, batch: int, dry_run: bool
) -> FieldReport:
    """Re-seal every value of one column that is not under the current key."""
    current = keyring().current_id
    report = FieldReport(label=f"{model._meta.label_lower}.{f.name}")
    rows = _raw_rows(model, f.name)
    last_pk: Any = None
    while True:
        page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
        found = list(page.values_list("pk", RAW)[:batch])
        if not found:
            break
        last_pk = found[-1][0]
        stale = []
        for pk, raw in found:
            kid = key_id_of(raw) or ""
            report.by_key[kid] += 1
            if kid != current:
                stale.append(pk)
        if dry_run or not stale:
            continue
        with transaction.atomic():
            # Re-read under the row locks: a row written since the scan is
            # re-sealed from what it holds now, not from what was scanned.
            locked = model._base_manager.select_for_update().filter(pk__in=stale)
            for pk, raw in locked.annotate(**{RAW: Cast(f.name, models.TextField())}).values_list("pk", RAW):
                if not raw or key_id_of(raw) == current:
                    continue
                try:
                    plain = decrypt(raw, aad=f.aad)
                except VaultError:
                    report.unreadable += 1
                    continue
                # update() writes through the field: get_prep_value seals the
                # value under the current key. The blind index does not change.
                model._base_manager.filter(pk=pk).update(**{f.name: plain})
                report.rewritten += 1
    return report


def reindex_field(model: type[models.Model], f: BlindIndexField, *, batch: int, dry_run: bool) -> FieldReport:
    """Recompute one blind index column from its source's opened values."""
    report = FieldReport(label=f"{model._meta.label_lower}.{f.name}")
    source = model._meta.get_field(f.source)
    last_pk: Any = None
    while True:
        qs = model._base_manager.order_by("pk")
        if last_pk is not None:
            qs = qs.filter(pk__gt=last_pk)
        pks = list(qs.values_list("pk", flat=True)[:batch])
        if not pks:
            break
        last_pk = pks[-1]
        with transaction.atomic():
            locked = (
                model._base_manager.select_for_update()
                .filter(pk__in=pks)
                .annotate(**{RAW: Cast(source.name, models.TextField())})
                .values_list("pk", RAW, f.attname)
            )
            for pk, raw, stored in locked:
                try:
                    plain = (
                        decrypt(raw, aad=source.aad)
                        if raw and isinstance(source, EncryptedTextField)
                        else raw
                    )
                except VaultError:
                    report.unreadable += 1
                    continue
                wanted = index_for(f.purpose, plain) if plain else None
                report.by_key["same" if wanted == stored else "changed"] += 1
                if wanted != stored and not dry_run:
                    model._base_manager.filter(pk=pk).update(**{f.attname: wanted})
                    report.rewritten += 1
    return report


class Command(BaseCommand):
    help = "Re-encrypt personal data under the current vault key (and recompute blind indexes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="Also recompute every blind index (after changing RENDAO_VAULT_INDEX_KEY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch: int = options["batch"]
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        dry_run: bool = options["dry_run"]
        # Keys come from settings or a file that may have changed since start-up.
        reset_keyring_cache()
        current = keyring().current_id
        self.stdout.write(f"current key: {current}{' (dry run: nothing is changed)' if dry_run else ''}")
        unreadable = 0
        # Values not under the current key after this run: 0 means old keys may go.
        left_over = 0
        for model, f in vault_fields():
            report = rotate_field(model, f, batch=batch, dry_run=dry_run)
            unreadable += report.unreadable
            counts = ", ".join(f"{k or 'unsealed'}={n}" for k, n in sorted(report.by_key.items())) or "empty"
            self.stdout.write(
                f"{report.label}: {counts}; re-encrypted {report.rewritten}"
                + (f"; UNREADABLE {report.unreadable}" if report.unreadable else "")
            )
            left_over += sum(n for kid, n in report.by_key.items() if kid != current) - report.rewritten
        if options["reindex"]:
            for model, ix in index_fields():
                report = reindex_field(model, ix, batch=batch, dry_run=dry_run)
                unreadable += report.unreadable
                self.stdout.write(
                    f"{report.label}: {report.by_key['same']} unchanged, "
                    f"{report.by_key['changed']} {'to recompute' if dry_run else 'recomputed'}"
                    + (f"; UNREADABLE {report.unreadable}" if report.unreadable else "")
                )
        self.stdout.write(f"left under other keys: {left_over}")
        if unreadable:
            raise CommandError(
                f"{unreadable} values could not be decrypted (unknown key id or tampered): "
                "they were left as they are; see the counts above."
            )
        self.stdout.write("done" if not dry_run else "dry run done")

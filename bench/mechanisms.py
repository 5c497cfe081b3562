"""What the shared mechanisms of issue #3 cost: the personal-data vault (and the
approvals inbox, when bench/mechanisms_inbox.py is there).

    .venv/bin/python bench/mechanisms.py [--rounds 7] [--n 2000]

Runs on its own: a temporary data directory and SQLite database, migrated by
the script, removed afterwards; the vault's key ring is generated there.

Figures (last line, name=value):
- seal_us: sealing one field (AES-256-GCM, column-bound) plus its blind index
  (HMAC-SHA256 of the normalised value), microseconds, median of n calls;
- encrypt_us, index_us, decrypt_us: the parts, and opening one field;
- save_plain_us, save_sealed_us: saving one record (INSERT) with three
  sensitive text fields (name, ID number, mobile) kept plain or sealed with two
  blind indexes, all saves of a round in one transaction, median of rounds;
- save_ratio: save_sealed_us / save_plain_us;
- save_commit_ratio: the same with every save committed on its own (what a web
  request does; SQLite's commit then weighs more than the cryptography);
- load_ratio: reading the records back (decrypting three fields each) against
  the plain ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NAME = "陈志明"
ID_NUMBER = "350203198503120132"  # synthetic, valid check digit (demo data)
MOBILE = "+8613800138001"  # 138 0013 8xxx: the test range


def _setup(data_dir: Path) -> None:
    os.environ["RENDAO_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "rendao.settings"
    os.environ.setdefault("RENDAO_LOG_LEVEL", "WARNING")
    for name in ("RENDAO_VAULT_KEYS", "RENDAO_VAULT_KEYS_FILE", "RENDAO_VAULT_INDEX_KEY"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _median_us(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def _models() -> tuple[Any, Any]:
    """Two throwaway models, created in the bench database only: the same three
    text fields kept plain, or sealed with blind indexes on two of them."""
    from django.db import connection, models

    from rendao.privacy.fields import BlindIndexField, EncryptedTextField

    class PlainRecord(models.Model):
        real_name = models.TextField()
        id_number = models.TextField()
        mobile = models.TextField()
        note = models.CharField(max_length=100)

        class Meta:
            app_label = "bench"

        def __str__(self) -> str:
            return f"plain {self.pk}"

    class SealedRecord(models.Model):
        real_name = EncryptedTextField()
        id_number = EncryptedTextField()
        id_number_index = BlindIndexField(source="id_number", purpose="id_number")
        mobile = EncryptedTextField()
        mobile_index = BlindIndexField(source="mobile", purpose="mobile")
        note = models.CharField(max_length=100)

        class Meta:
            app_label = "bench"

        def __str__(self) -> str:
            return f"sealed {self.pk}"

    with connection.schema_editor() as editor:
        editor.create_model(PlainRecord)
        editor.create_model(SealedRecord)
    return PlainRecord, SealedRecord


def _save_round(model: Any, n: int, *, one_transaction: bool) -> float:
    from django.db import transaction

    def save_all() -> None:
        for i in range(n):
            model(real_name=NAME, id_number=ID_NUMBER, mobile=MOBILE, note=f"row {i}").save()

    start = time.perf_counter()
    if one_transaction:
        with transaction.atomic():
            save_all()
    else:
        save_all()
    return (time.perf_counter() - start) / n * 1e6


def _load_round(model: Any) -> float:
    start = time.perf_counter()
    rows = list(model.objects.all())
    return (time.perf_counter() - start) / max(len(rows), 1) * 1e6


def vault_figures(rounds: int, n: int) -> dict[str, float]:
    from rendao.privacy.crypto import decrypt, encrypt
    from rendao.privacy.fields import index_for

    aad = "privacy.identity.id_number"
    sealed = encrypt(ID_NUMBER, aad=aad)
    figures = {
        "seal_us": _median_us(lambda: (encrypt(ID_NUMBER, aad=aad), index_for("id_number", ID_NUMBER)), n),
        "encrypt_us": _median_us(lambda: encrypt(ID_NUMBER, aad=aad), n),
        "index_us": _median_us(lambda: index_for("id_number", ID_NUMBER), n),
        "mobile_index_us": _median_us(lambda: index_for("mobile", MOBILE), n),
        "decrypt_us": _median_us(lambda: decrypt(sealed, aad=aad), n),
    }
    plain, sealed_model = _models()
    # Interleaved rounds, so that a slow moment of the machine hits both alike.
    saves: dict[str, list[float]] = {"plain": [], "sealed": [], "plain_c": [], "sealed_c": []}
    loads: dict[str, list[float]] = {"plain": [], "sealed": []}
    for _ in range(rounds):
        for label, model in (("plain", plain), ("sealed", sealed_model)):
            model.objects.all().delete()
            saves[label].append(_save_round(model, n, one_transaction=True))
            loads[label].append(_load_round(model))
            saves[f"{label}_c"].append(_save_round(model, max(n // 10, 50), one_transaction=False))
    med = {k: statistics.median(v) for k, v in saves.items()}
    figures.update(
        save_plain_us=med["plain"],
        save_sealed_us=med["sealed"],
        save_ratio=med["sealed"] / med["plain"],
        save_commit_ratio=med["sealed_c"] / med["plain_c"],
        load_ratio=statistics.median(loads["sealed"]) / statistics.median(loads["plain"]),
    )
    return figures


def inbox_figures() -> dict[str, float]:
    """Figures of bench/mechanisms_inbox.py (the approvals inbox), if it exists."""
    path = Path(__file__).with_name("mechanisms_inbox.py")
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("bench_mechanisms_inbox", path)
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, float] = module.run()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000, help="calls or saves per round")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="rendao-bench-mech-"))
    try:
        _setup(data_dir)
        figures = vault_figures(args.rounds, args.n)
        figures.update(inbox_figures())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    for name, value in figures.items():
        sys.stdout.write(f"{name}: {value:.3f}\n")
    sys.stdout.write(" ".join(f"{k}={v:.3f}" for k, v in figures.items()) + "\n")


if __name__ == "__main__":
    main()

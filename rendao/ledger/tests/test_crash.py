"""Crash during append: the appending process is killed (SIGKILL) at random moments
over many appends and checkpoint signings; after each restart the log carries on,
and at the end there is no index gap, every stored tree hash and every checkpoint
agrees with a recomputation from the entries, and no checkpoint ever covered an
entry that was not committed.

A real SQLite file in a temporary data directory and a real worker process
(rendao/ledger/tests/crash_worker.py); only local files, no network. Bounded:
KILLS rounds of at most 0.5 s of appending after the worker is ready, each
read with a timeout, so the test stops by itself in ~15–20 s (marked slow).
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rendao.ledger import merkle
from rendao.ledger.keys import parse_signer
from rendao.ledger.models import Checkpoint, Entry, LedgerHead, NodeHash
from rendao.ledger.note import Checkpoint as CheckpointBody
from rendao.ledger.note import Note
from rendao.ledger.tests.crash_worker import ACTION, ROWS_PER_DONATION
from rendao.privacy.detect import find_bank_cards, find_pii

REPO = Path(__file__).resolve().parents[3]
KILLS = 15
FINAL_APPENDS = 5
# Fixed, so a failing run's kill schedule can be replayed (the moments relative
# to the worker's work still vary with the machine's speed).
SEED = 20261128

pytestmark = pytest.mark.slow


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="rendao.settings",
        RENDAO_ENV="development",
        RENDAO_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'crash.sqlite3'}",
        # As in production: checkpoints come from the job, not inline on commit.
        RENDAO_HUEY_IMMEDIATE="false",
        RENDAO_LOG_LEVEL="WARNING",
    )
    for name in ("RENDAO_LEDGER_KEY_FILE", "RENDAO_LEDGER_ORIGIN", "REDIS_URL"):
        env.pop(name, None)
    return env


def _worker(env: dict[str, str], stderr: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "rendao.ledger.tests.crash_worker", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=stderr.open("ab"),
    )


def _wait_ready(proc: subprocess.Popen[bytes], stderr: Path) -> None:
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if readable else b""
    if line != b"ready\n":
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"the worker did not start: {stderr.read_text()[-2000:]}")


def _all_subtrees(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree hash of the tree over `leaves`, computed level by level."""
    out: dict[tuple[int, int], bytes] = {}
    level, row = 0, leaves
    while row:
        out.update(((level, i), h) for i, h in enumerate(row))
        row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return out


def test_killing_the_appender_at_random_moments_leaves_a_log_every_checkpoint_still_matches(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    stderr = tmp_path / "worker.stderr"
    subprocess.run(
        [sys.executable, "-m", "rendao.cli", "manage", "migrate", "--no-input", "-v", "0"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    rng = random.Random(SEED)
    for _round in range(KILLS):
        proc = _worker(env, stderr)
        _wait_ready(proc, stderr)
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # Killed by us, not dead of an error of its own before the signal came.
        assert proc.returncode == -signal.SIGKILL, stderr.read_text()[-2000:]
    # Restarted once more, it appends and checkpoints normally and stops by itself.
    proc = _worker(env, stderr, "--appends", str(FINAL_APPENDS))
    _wait_ready(proc, stderr)
    assert proc.wait(timeout=30) == 0, stderr.read_text()[-2000:]

    db = sqlite3.connect(tmp_path / "crash.sqlite3")
    entries = db.execute(
        f'SELECT "index", data, leaf_hash FROM {Entry._meta.db_table} ORDER BY "index"'  # noqa: S608
    ).fetchall()
    n = len(entries)
    # Enough appends happened for the kills to have landed among them.
    assert n >= KILLS + FINAL_APPENDS

    # No gap, the head agrees, and every donation's business rows committed with its entry.
    assert [row[0] for row in entries] == list(range(n))
    (head,) = db.execute(f"SELECT size FROM {LedgerHead._meta.db_table} WHERE id = 1").fetchone()  # noqa: S608
    assert head == n
    (business_rows,) = db.execute(
        "SELECT count(*) FROM core_auditevent WHERE action = ?", [ACTION]
    ).fetchone()
    assert business_rows == ROWS_PER_DONATION * n

    leaves = [merkle.leaf_hash(bytes(data)) for _, data, _ in entries]
    assert [bytes(row[2]) for row in entries] == leaves
    for _, data, _ in entries:
        text = bytes(data).decode()
        assert not find_pii(text) + find_bank_cards(text)

    # Every stored tree hash is the recomputed one, and every complete subtree is stored.
    stored = {
        (level, index): bytes(h)
        for level, index, h in db.execute(
            f'SELECT level, "index", hash FROM {NodeHash._meta.db_table}'  # noqa: S608
        )
    }
    assert stored == _all_subtrees(leaves)

    # Every checkpoint: signed by the log's key, within the committed log, and its
    # root is the recomputed root at its size.
    verifier = parse_signer((tmp_path / "ledger_key").read_text()).verifier
    checkpoints = db.execute(
        f"SELECT size, root, note FROM {Checkpoint._meta.db_table} ORDER BY id"  # noqa: S608
    ).fetchall()
    assert checkpoints
    assert checkpoints[-1][0] == n  # the last run's closing checkpoint covers everything
    for size, root, note_text in checkpoints:
        assert size <= n
        note = Note.parse(note_text)
        note.verify(verifier)
        body = CheckpointBody.parse(note.text)
        assert (body.size, body.root) == (size, bytes(root))
        assert body.root == merkle.root_from_leaf_hashes(leaves[:size])
    db.close()

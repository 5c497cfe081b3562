from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.cache import cache
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from rendao.ledger import merkle, tasks
from rendao.ledger.keys import COSIGNATURE_V1, cosignature_key_id, ledger_origin, reset_key_cache
from rendao.ledger.models import Checkpoint, Cosignature, EntryKind
from rendao.ledger.note import Checkpoint as CheckpointBody
from rendao.ledger.note import Note, Verifier
from rendao.ledger.selectors import hash_reader
from rendao.ledger.services import ledger_append, ledger_checkpoint_sign

pytestmark = pytest.mark.django_db


def _append(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            ledger_append(kind=EntryKind.DISBURSEMENT, payload={"amount_fen": i})


def test_a_checkpoint_verifies_with_the_published_key_and_commits_to_the_tree() -> None:
    _append(5)
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    published = Client().get("/ledger/key")
    assert published.status_code == 200
    verifier = Verifier.parse(published.content.decode())
    note = Note.parse(checkpoint.note)
    note.verify(verifier)
    body = CheckpointBody.parse(note.text)
    assert body.origin == ledger_origin() == verifier.name
    assert body.size == 5
    assert body.root == bytes(checkpoint.root) == merkle.tree_root(5, hash_reader)


def test_a_tampered_checkpoint_does_not_verify() -> None:
    _append(1)
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    forged = checkpoint.note.replace("\n1\n", "\n2\n", 1)
    verifier = Verifier.parse(Client().get("/ledger/key").content.decode())
    with pytest.raises(ValueError, match="does not verify"):
        Note.parse(forged).verify(verifier)


def test_it_signs_again_only_when_the_log_grew_or_a_day_passed() -> None:
    now = timezone.now()
    assert ledger_checkpoint_sign(now=now) is not None  # the empty log gets one too
    assert ledger_checkpoint_sign(now=now + timedelta(hours=23)) is None
    _append(1)
    grown = ledger_checkpoint_sign(now=now + timedelta(hours=23))
    assert grown is not None
    assert grown.size == 1
    assert ledger_checkpoint_sign(now=now + timedelta(hours=24)) is None
    daily = ledger_checkpoint_sign(now=now + timedelta(hours=47))
    assert daily is not None
    assert daily.size == 1
    assert Checkpoint.objects.count() == 3


def test_the_checkpoint_is_served_as_text_with_a_short_cache() -> None:
    client = Client()
    assert client.get("/ledger/checkpoint").status_code == 404
    _append(3)
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "max-age=5" in response["Cache-Control"]
    assert response.content.decode() == checkpoint.note
    assert client.post("/ledger/checkpoint").status_code == 405


def test_a_commit_schedules_one_signing_however_many_entries_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    cache.delete("ledger:checkpoint-pending")
    scheduled: list[int] = []
    monkeypatch.setattr(tasks.ledger_checkpoint_task, "schedule", lambda delay: scheduled.append(delay))
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            ledger_append(kind=EntryKind.REFUND, payload={"amount_fen": 1})
    assert scheduled == [settings.LEDGER_CHECKPOINT_SECONDS]


def test_keygen_writes_a_key_once(tmp_path: Path) -> None:
    path = tmp_path / "key"
    call_command("ledger_keygen", "--path", str(path))
    assert path.read_text().startswith(f"PRIVATE+KEY+{ledger_origin()}+")
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(CommandError, match="exists"):
        call_command("ledger_keygen", "--path", str(path))


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        pytest.param({"RENDAO_ENV": "production"}, "rendao.E301", id="production without a key"),
        pytest.param({"LEDGER_WITNESSES": ["nonsense"]}, "rendao.E303", id="malformed witness"),
        pytest.param({"LEDGER_ORIGIN": "has space"}, "rendao.E302", id="bad origin"),
        pytest.param({"LEDGER_CHECKPOINT_SECONDS": 0}, "rendao.E304", id="zero interval"),
    ],
)
def test_a_bad_configuration_fails_the_system_checks(
    tmp_path: Path, overrides: dict[str, Any], check_id: str
) -> None:
    with override_settings(LEDGER_KEY_FILE=str(tmp_path / "missing"), **overrides):
        ids = {m.id for m in run_checks()}
    reset_key_cache()
    assert check_id in ids


def test_a_key_for_another_origin_fails_the_system_checks(tmp_path: Path) -> None:
    path = tmp_path / "key"
    call_command("ledger_keygen", "--path", str(path))
    with override_settings(LEDGER_KEY_FILE=str(path), LEDGER_ORIGIN="other.example/ledger"):
        ids = {m.id for m in run_checks()}
    reset_key_cache()
    assert "rendao.E301" in ids


# --- witnesses ----------------------------------------------------------------


WITNESS = "witness.example/w1"


@pytest.fixture
def witness_key() -> Iterator[Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    vkey = (
        f"{WITNESS}+{cosignature_key_id(WITNESS, public).hex()}+"
        + base64.b64encode(bytes([COSIGNATURE_V1]) + public).decode()
    )
    with override_settings(LEDGER_WITNESSES=[vkey]):
        reset_key_cache()
        yield key
    reset_key_cache()


def _cosign(key: Ed25519PrivateKey, checkpoint: Checkpoint, name: str = WITNESS) -> str:
    timestamp = 1_700_000_000
    text = Note.parse(checkpoint.note).text
    sig = key.sign(f"cosignature/v1\ntime {timestamp}\n{text}".encode())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = cosignature_key_id(name, public) + timestamp.to_bytes(8, "big") + sig
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


def test_a_witness_cosignature_is_verified_stored_and_served(witness_key: Ed25519PrivateKey) -> None:
    _append(2)
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    line = _cosign(witness_key, checkpoint)
    client = Client()
    response = client.post("/api/v1/ledger/checkpoints/2/cosignatures", {"line": line}, "application/json")
    assert response.status_code == 201, response.content
    assert response.json() == {"size": 2, "witness": WITNESS}
    served = client.get("/ledger/checkpoint").content.decode()
    assert served == checkpoint.note + line
    # Our own signature still verifies on the note carrying the witness's line.
    Note.parse(served).verify(Verifier.parse(client.get("/ledger/key").content.decode()))


@pytest.mark.parametrize(
    "case",
    ["tampered", "unknown witness", "no such size", "not a signature line", "twice", "other key"],
)
def test_a_bad_cosignature_is_refused_and_nothing_stored(witness_key: Ed25519PrivateKey, case: str) -> None:
    _append(2)
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    size, line = 2, _cosign(witness_key, checkpoint)
    client = Client()
    url = "/api/v1/ledger/checkpoints/{}/cosignatures"
    if case == "tampered":
        raw = bytearray(base64.b64decode(line.split(" ")[-1]))
        raw[-1] ^= 1
        line = f"\u2014 {WITNESS} {base64.b64encode(bytes(raw)).decode()}\n"
    elif case == "unknown witness":
        line = _cosign(witness_key, checkpoint, name="stranger")
    elif case == "no such size":
        size = 3
    elif case == "not a signature line":
        line = "hello"
    elif case == "other key":
        line = _cosign(Ed25519PrivateKey.generate(), checkpoint)
    elif case == "twice":
        first = client.post(url.format(size), {"line": line}, "application/json")
        assert first.status_code == 201
    before = Cosignature.objects.count()
    response = client.post(url.format(size), {"line": line}, "application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert Cosignature.objects.count() == before

"""C2SP signed notes, checkpoints, verifier keys and tile paths (rendao.ledger.note)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rendao.ledger import note

SEED = bytes(range(32))
ORIGIN = "example.org/ledger"


def _signer(name: str = ORIGIN, seed: bytes = SEED) -> note.Signer:
    return note.Signer(name, Ed25519PrivateKey.from_private_bytes(seed))


def _checkpoint(size: int = 5) -> note.Checkpoint:
    return note.Checkpoint(ORIGIN, size, hashlib.sha256(b"root").digest())


def test_a_signed_checkpoint_round_trips_and_verifies() -> None:
    signer = _signer()
    cp = _checkpoint()
    signed = note.sign_note(cp.text(), signer)
    parsed = note.Note.parse(signed)
    parsed.verify(signer.verifier)
    assert parsed.text == cp.text()
    assert note.Checkpoint.parse(parsed.text) == cp
    assert signed.startswith(f"{ORIGIN}\n5\n")
    assert signed.count("\n\n") == 1


def test_the_key_id_follows_the_signed_note_specification() -> None:
    signer = _signer()
    public = signer.verifier.public_key.public_bytes_raw()
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert signer.verifier.key_id == expected
    line = signer.signature_line("x\n")
    blob = base64.b64decode(line.rstrip("\n").rsplit(" ", 1)[1])
    assert blob[:4] == expected
    assert len(blob) == 4 + 64
    assert line.startswith("\u2014 " + ORIGIN + " ")


def test_a_verifier_key_encodes_and_parses_back() -> None:
    verifier = _signer().verifier
    text = verifier.encode()
    name, hex_id, b64 = text.split("+", 2)
    assert name == ORIGIN
    assert hex_id == verifier.key_id.hex()
    assert base64.b64decode(b64)[0] == 0x01
    again = note.Verifier.parse(text + "\n")
    assert again.encode() == text


def test_a_note_with_its_text_changed_is_rejected() -> None:
    signer = _signer()
    signed = note.sign_note(_checkpoint(5).text(), signer)
    tampered = signed.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.Note.parse(tampered).verify(signer.verifier)


def test_a_note_with_its_signature_changed_is_rejected() -> None:
    signer = _signer()
    signed = note.sign_note(_checkpoint().text(), signer)
    text, line = signed.rstrip("\n").rsplit("\n", 1)
    prefix, blob = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 0x01
    tampered = f"{text}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(note.NoteError, match="does not verify"):
        note.Note.parse(tampered).verify(signer.verifier)


def test_a_note_signed_with_another_key_id_or_name_is_not_accepted() -> None:
    signer = _signer()
    other = _signer(seed=bytes(32))
    signed = note.sign_note(_checkpoint().text(), other)
    with pytest.raises(note.NoteError, match="not signed by"):
        note.Note.parse(signed).verify(signer.verifier)
    renamed = note.sign_note(_checkpoint().text(), _signer(name="someone.else/log"))
    with pytest.raises(note.NoteError, match="not signed by"):
        note.Note.parse(renamed).verify(signer.verifier)


def test_a_forged_signature_under_the_right_key_id_is_rejected() -> None:
    signer = _signer()
    other = _signer(seed=bytes(32))
    text = _checkpoint().text()
    forged_sig = other.private_key.sign(text.encode())
    blob = base64.b64encode(signer.verifier.key_id + forged_sig).decode()
    forged = f"{text}\n\u2014 {ORIGIN} {blob}\n"
    with pytest.raises(note.NoteError, match="does not verify"):
        note.Note.parse(forged).verify(signer.verifier)


def test_an_extra_cosignature_does_not_stop_the_log_signature_verifying() -> None:
    signer = _signer()
    witness = _signer(name="witness.example", seed=bytes(32))
    signed = note.sign_note(_checkpoint().text(), signer) + witness.signature_line(_checkpoint().text())
    parsed = note.Note.parse(signed)
    assert len(parsed.signatures) == 2
    parsed.verify(signer.verifier)
    parsed.verify(witness.verifier)


def test_a_verifier_key_whose_id_does_not_match_its_key_is_refused() -> None:
    text = _signer().verifier.encode()
    name, hex_id, b64 = text.split("+", 2)
    wrong_id = f"{int(hex_id, 16) ^ 1:08x}"
    with pytest.raises(note.NoteError, match="id does not match"):
        note.Verifier.parse(f"{name}+{wrong_id}+{b64}")
    with pytest.raises(note.NoteError, match="id does not match"):
        note.Verifier.parse(f"other.name+{hex_id}+{b64}")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-plus-signs",
        "name+zz+AQ==",
        "name+00000000+not base64!",
        "name+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
        "name+00000000+" + base64.b64encode(b"\x01" + bytes(31)).decode(),
        "na me+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
    ],
)
def test_a_malformed_verifier_key_is_refused(text: str) -> None:
    with pytest.raises(note.NoteError):
        note.Verifier.parse(text)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "no blank line\n",
        "text\n\n",
        "text\n\n\u2014 name AAAA\n",
        "text\n\n- name " + base64.b64encode(bytes(68)).decode() + "\n",
        "text\n\n\u2014 name not-base64!\n",
        "text\n\n\u2014 " + base64.b64encode(bytes(68)).decode() + "\n",
        "text\n\n\u2014 name " + base64.b64encode(bytes(68)).decode(),
    ],
)
def test_a_malformed_signed_note_is_refused(data: str) -> None:
    with pytest.raises(note.NoteError):
        note.Note.parse(data)


ROOT64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"{ORIGIN}\n5\n{ROOT64}",
        f"{ORIGIN}\n5\n",
        f"\n5\n{ROOT64}\n",
        f"{ORIGIN}\n-5\n{ROOT64}\n",
        f"{ORIGIN}\n05\n{ROOT64}\n",
        f"{ORIGIN}\nfive\n{ROOT64}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(bytes(31)).decode()}\n",
        f"{ORIGIN}\n5\n!!!!\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(note.NoteError):
        note.Checkpoint.parse(text)


def test_a_checkpoint_keeps_its_extension_lines() -> None:
    cp = note.Checkpoint(ORIGIN, 0, bytes(32), ("ext one", "ext two"))
    assert note.Checkpoint.parse(cp.text()) == cp


@pytest.mark.parametrize(
    ("n", "path"),
    [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_tile_indexes_are_written_in_groups_of_three_digits(n: int, path: str) -> None:
    assert note.tile_index_path(n) == path
    assert note.parse_tile_index(path) == (n, note.TILE_WIDTH)
    assert note.parse_tile_index(path + ".p/17") == (n, 17)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "5",
        "05",
        "0005",
        "x005",
        "001/005",
        "x000/005",
        "005.p/0",
        "005.p/256",
        "005.p/017",
        "005.p/",
        "005.p/1x",
        "../005",
        "005/",
        "x1/005",
    ],
)
def test_a_malformed_tile_path_is_refused(path: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_tile_index(path)


def test_a_negative_tile_index_is_refused() -> None:
    with pytest.raises(note.NoteError):
        note.tile_index_path(-1)

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from rendao.ledger import merkle
from rendao.ledger.models import Checkpoint, Entry, EntryKind
from rendao.ledger.services import ledger_append, ledger_checkpoint_sign

pytestmark = pytest.mark.django_db


def _append(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            ledger_append(kind=EntryKind.DONATION_RECEIVED, payload={"amount_fen": i, "donor": f"{i:064x}"})


def _sign() -> Checkpoint:
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    return checkpoint


@pytest.fixture
def log() -> tuple[Checkpoint, Checkpoint]:
    """Checkpoints at 100 and 260 entries; 5 more entries are appended but not yet signed."""
    _append(100)
    old = _sign()
    _append(160)
    new = _sign()
    _append(5)
    return old, new


def _leaves(n: int) -> list[bytes]:
    return [
        merkle.leaf_hash(bytes(d)) for d in Entry.objects.order_by("index").values_list("data", flat=True)[:n]
    ]


def test_tiles_serve_the_stored_hashes_of_levels_0_and_8(log: tuple[Checkpoint, Checkpoint]) -> None:
    client = Client()
    leaves = _leaves(260)
    full = client.get("/ledger/tile/0/000")
    assert full.status_code == 200
    assert full.content == b"".join(leaves[:256])
    assert "immutable" in full["Cache-Control"]
    partial = client.get("/ledger/tile/0/001.p/4")
    assert partial.content == b"".join(leaves[256:260])
    assert client.get("/ledger/tile/0/001.p/2").content == b"".join(leaves[256:258])
    # The level-1 tile holds tree level 8: the hash of the first 256 leaves.
    upper = client.get("/ledger/tile/1/000.p/1")
    assert upper.content == merkle.root_from_leaf_hashes(leaves[:256])


def test_entry_tiles_bundle_each_entry_with_its_length(log: tuple[Checkpoint, Checkpoint]) -> None:
    response = Client().get("/ledger/tile/entries/001.p/4")
    assert response.status_code == 200
    body, out = response.content, []
    while body:
        (length,) = struct.unpack(">H", body[:2])
        out.append(body[2 : 2 + length])
        body = body[2 + length :]
    assert out == [bytes(Entry.objects.get(index=i).data) for i in range(256, 260)]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ledger/tile/0/001", id="full tile when only a partial exists"),
        pytest.param("/ledger/tile/0/001.p/5", id="wider than the latest checkpoint"),
        pytest.param("/ledger/tile/1/000", id="full upper tile not complete"),
        pytest.param("/ledger/tile/2/000.p/1", id="upper level beyond the tree"),
        pytest.param("/ledger/tile/entries/002.p/1", id="entries beyond the checkpoint"),
        pytest.param("/ledger/tile/0/1", id="index not in three digits"),
        pytest.param("/ledger/tile/0/x000/001", id="leading zero group"),
        pytest.param("/ledger/tile/0/000.p/256", id="partial width too large"),
        pytest.param("/ledger/tile/0/000.p/0", id="partial width zero"),
        pytest.param("/ledger/tile/0/000.p/007", id="partial width with leading zeros"),
        pytest.param("/ledger/tile/9/000", id="level beyond 64-bit indexes"),
        pytest.param("/ledger/tile/01/000", id="level with a leading zero"),
        pytest.param("/ledger/tile/x/000", id="level not a number"),
        pytest.param("/ledger/tile/0/../key", id="dot segments"),
    ],
)
def test_a_tile_that_is_not_published_or_malformed_is_not_found(
    log: tuple[Checkpoint, Checkpoint], path: str
) -> None:
    assert Client().get(path).status_code == 404


def test_an_inclusion_proof_verifies_against_the_signed_root(log: tuple[Checkpoint, Checkpoint]) -> None:
    old, new = log
    client = Client()
    for index, size, root in [
        (0, 260, new.root),
        (259, 260, new.root),
        (37, 100, old.root),
        (99, 100, old.root),
    ]:
        response = client.get("/api/v1/ledger/proof/inclusion", {"index": index, "size": size})
        assert response.status_code == 200, response.content
        body = response.json()
        leaf = base64.b64decode(body["leaf_hash"])
        assert leaf == merkle.leaf_hash(bytes(Entry.objects.get(index=index).data))
        proof = [base64.b64decode(h) for h in body["hashes"]]
        merkle.verify_inclusion(index, size, leaf, proof, bytes(root))
    # Without a size: the latest checkpoint's.
    assert client.get("/api/v1/ledger/proof/inclusion", {"index": 3}).json()["size"] == 260


def test_a_consistency_proof_verifies_between_the_signed_roots(log: tuple[Checkpoint, Checkpoint]) -> None:
    old, new = log
    response = Client().get("/api/v1/ledger/proof/consistency", {"old": 100, "new": 260})
    assert response.status_code == 200
    proof = [base64.b64decode(h) for h in response.json()["hashes"]]
    merkle.verify_consistency(100, 260, bytes(old.root), bytes(new.root), proof)


def test_an_entry_is_served_by_index_and_the_checkpoint_as_json(log: tuple[Checkpoint, Checkpoint]) -> None:
    client = Client()
    body = client.get("/api/v1/ledger/entries/42").json()
    assert body["index"] == 42
    assert body["payload"]["amount_fen"] == 42
    assert json.loads(body["data"]) == body["payload"]
    latest = client.get("/api/v1/ledger/checkpoint").json()
    assert latest["size"] == 260
    assert latest["note"] == log[1].note


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        pytest.param("inclusion", {"index": 260, "size": 260}, "index", id="index beyond the tree"),
        pytest.param("inclusion", {"index": 100, "size": 100}, "index", id="index equal to the size"),
        pytest.param("inclusion", {"index": 0, "size": 261}, "size", id="size beyond the latest checkpoint"),
        pytest.param("inclusion", {"index": -1}, "index", id="negative index"),
        pytest.param("inclusion", {"index": "x"}, "index", id="index not a number"),
        pytest.param("inclusion", {}, "index", id="no index"),
        pytest.param("inclusion", {"index": 0, "size": 0}, "size", id="size zero"),
        pytest.param("consistency", {"old": 100, "new": 264}, "new", id="new size beyond the checkpoint"),
        pytest.param("consistency", {"old": 200, "new": 100}, "old", id="old larger than new"),
        pytest.param("consistency", {"old": 0, "new": 100}, "old", id="old size zero"),
        pytest.param("consistency", {"old": 10**30}, "old", id="huge size"),
    ],
)
def test_a_bad_proof_request_is_a_clear_422(
    log: tuple[Checkpoint, Checkpoint], url: str, params: dict[str, Any], field: str
) -> None:
    response = Client().get(f"/api/v1/ledger/proof/{url}", params)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["loc"][-1] == field


@pytest.mark.parametrize("index", ["260", "-1", "x", "99999999999999999999999"])
def test_an_entry_beyond_the_checkpoint_or_malformed_is_an_api_error(
    log: tuple[Checkpoint, Checkpoint], index: str
) -> None:
    response = Client().get(f"/api/v1/ledger/entries/{index}")
    assert response.status_code in (404, 422)
    assert response.json()["error"]["code"] in ("not_found", "validation_error")


def test_before_any_checkpoint_nothing_is_published() -> None:
    _append(3)
    client = Client()
    assert client.get("/ledger/tile/0/000.p/1").status_code == 404
    assert client.get("/api/v1/ledger/entries/0").status_code == 404
    assert client.get("/api/v1/ledger/checkpoint").status_code == 404
    assert client.get("/api/v1/ledger/proof/inclusion", {"index": 0}).status_code == 422

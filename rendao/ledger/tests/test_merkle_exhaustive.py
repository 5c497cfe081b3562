"""Every tree size 1..70: every valid proof verifies, every tampered one is rejected.

Proofs are built by `merkle.inclusion_proof` / `consistency_proof` from the stored
complete-subtree hashes (as the server builds them) and checked against the
roots of a plain recursive MTH, so builder and verifier are tested against each
other and against the definition.

Tampering: a single-bit flip in every hash of every proof, of every leaf hash and
of every root. Flipping all 256 bits of every hash would take ~40 s for no gain
(the verifier only compares whole hashes), so the bit flipped rotates with the
proof and the position, covering every bit position across the run, and the
proofs of the largest tree get all 256 flips of every hash. Then every wrong
index, neighbouring wrong sizes (with that size's own root), a truncated proof
and one with an extra hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

import pytest

from rendao.ledger import merkle

MAX = 70
DATA = [hashlib.sha256(str(i).encode()).digest()[: i % 40] + bytes([i]) for i in range(MAX)]
LEAF = [merkle.leaf_hash(d) for d in DATA]


def _mth(start: int, end: int) -> bytes:
    if end - start == 1:
        return LEAF[start]
    k = 1 << ((end - start - 1).bit_length() - 1)
    return merkle.node_hash(_mth(start, start + k), _mth(start + k, end))


ROOT = {n: _mth(0, n) for n in range(1, MAX + 1)}
STORE = {
    (level, index): _mth(index << level, (index + 1) << level)
    for i in range(MAX)
    for level, index in merkle.complete_subtrees_ending_at(i)
}


def _read(nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    return {n: STORE[n] for n in nodes}


@cache
def inclusion(index: int, size: int) -> tuple[bytes, ...]:
    return tuple(merkle.inclusion_proof(index, size, _read))


@cache
def consistency(old: int, new: int) -> tuple[bytes, ...]:
    return tuple(merkle.consistency_proof(old, new, _read))


def flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _inclusion_ok(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    try:
        merkle.verify_inclusion(index, size, leaf, proof, root)
    except merkle.ProofError:
        return False
    return True


def _consistency_ok(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    try:
        merkle.verify_consistency(old, new, old_root, new_root, proof)
    except merkle.ProofError:
        return False
    return True


def test_the_stored_hashes_give_every_root() -> None:
    for n in range(1, MAX + 1):
        assert merkle.tree_root(n, _read) == ROOT[n] == merkle.root_from_leaf_hashes(LEAF[:n])


def test_every_valid_inclusion_proof_verifies() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            assert _inclusion_ok(i, n, LEAF[i], inclusion(i, n), ROOT[n]), (i, n)


def test_every_valid_consistency_proof_verifies() -> None:
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            assert _consistency_ok(m, n, ROOT[m], ROOT[n], consistency(m, n)), (m, n)
    assert _consistency_ok(0, 5, merkle.EMPTY_ROOT, ROOT[5], [])


def test_every_bit_flipped_inclusion_proof_leaf_or_root_is_rejected() -> None:
    checked = 0
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = list(inclusion(i, n))
            bits = range(256) if n == MAX else [(i * 31 + n * 7) % 256]
            for bit in bits:
                for pos in range(len(proof)):
                    bad = [*proof[:pos], flip(proof[pos], (bit + pos) % 256), *proof[pos + 1 :]]
                    assert not _inclusion_ok(i, n, LEAF[i], bad, ROOT[n]), (i, n, pos, bit)
                    checked += 1
                assert not _inclusion_ok(i, n, flip(LEAF[i], bit), proof, ROOT[n]), (i, n, bit)
                assert not _inclusion_ok(i, n, LEAF[i], proof, flip(ROOT[n], bit)), (i, n, bit)
                checked += 2
    assert checked > 20_000


def test_every_bit_flipped_consistency_proof_or_root_is_rejected() -> None:
    checked = 0
    for n in range(2, MAX + 1):
        for m in range(1, n):
            proof = list(consistency(m, n))
            bits = range(256) if n == MAX else [(m * 31 + n * 7) % 256]
            for bit in bits:
                for pos in range(len(proof)):
                    bad = [*proof[:pos], flip(proof[pos], (bit + pos) % 256), *proof[pos + 1 :]]
                    assert not _consistency_ok(m, n, ROOT[m], ROOT[n], bad), (m, n, pos, bit)
                    checked += 1
                assert not _consistency_ok(m, n, flip(ROOT[m], bit), ROOT[n], proof), (m, n, bit)
                assert not _consistency_ok(m, n, ROOT[m], flip(ROOT[n], bit), proof), (m, n, bit)
                checked += 2
    assert checked > 20_000


def test_an_inclusion_proof_at_any_other_index_is_rejected() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = inclusion(i, n)
            for j in range(n):
                if j != i:
                    assert not _inclusion_ok(j, n, LEAF[i], proof, ROOT[n]), (i, j, n)
            assert not _inclusion_ok(n, n, LEAF[i], proof, ROOT[n])
            assert not _inclusion_ok(-1, n, LEAF[i], proof, ROOT[n])


def test_an_inclusion_proof_against_a_neighbouring_tree_size_is_rejected() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = inclusion(i, n)
            for other in (n - 1, n + 1):
                if i < other <= MAX:
                    assert not _inclusion_ok(i, other, LEAF[i], proof, ROOT[other]), (i, n, other)


def test_a_consistency_proof_for_other_sizes_is_rejected() -> None:
    for n in range(2, MAX + 1):
        for m in range(1, n):
            proof = consistency(m, n)
            for m2, n2 in ((m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)):
                if 0 < m2 < n2 <= MAX and (m2, n2) != (m, n):
                    assert not _consistency_ok(m2, n2, ROOT[m2], ROOT[n2], proof), (m, n, m2, n2)
            assert not _consistency_ok(n, m, ROOT[n], ROOT[m], proof)  # backwards


def test_truncated_or_extended_proofs_are_rejected() -> None:
    extra = hashlib.sha256(b"extra").digest()
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = list(inclusion(i, n))
            if proof:
                assert not _inclusion_ok(i, n, LEAF[i], proof[:-1], ROOT[n])
                assert not _inclusion_ok(i, n, LEAF[i], proof[1:], ROOT[n])
            assert not _inclusion_ok(i, n, LEAF[i], [*proof, extra], ROOT[n])
            assert not _inclusion_ok(i, n, LEAF[i], [*proof, proof[-1] if proof else extra], ROOT[n])
        for m in range(1, n):
            proof = list(consistency(m, n))
            assert not _consistency_ok(m, n, ROOT[m], ROOT[n], proof[:-1])
            assert not _consistency_ok(m, n, ROOT[m], ROOT[n], [*proof, extra])
            assert not _consistency_ok(m, n, ROOT[m], ROOT[n], [proof[0][:31], *proof[1:]])


def test_a_non_empty_proof_between_equal_sizes_is_rejected() -> None:
    for n in range(1, MAX + 1):
        assert not _consistency_ok(n, n, ROOT[n], ROOT[n], [LEAF[0]])
        if n > 1:
            assert not _consistency_ok(n, n, ROOT[n - 1], ROOT[n], [])


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0)])
def test_a_proof_request_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(index, size, _read)


@pytest.mark.parametrize(("old", "new"), [(0, 5), (6, 5), (-1, 3)])
def test_a_consistency_request_with_bad_sizes_is_refused(old: int, new: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(old, new, _read)


def test_a_proof_over_missing_stored_hashes_is_refused() -> None:
    with pytest.raises(merkle.ProofError, match="missing"):
        merkle.inclusion_proof(3, MAX + 5, _read_partial)


def _read_partial(nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    return {n: STORE[n] for n in nodes if n in STORE}

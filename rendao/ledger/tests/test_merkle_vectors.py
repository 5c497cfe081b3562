"""RFC 6962 test vectors: the Certificate Transparency reference test data.

The eight leaves, the roots for sizes 1..8 and the inclusion/consistency proofs
below are the ones in the CT reference implementation's tests (certificate-
transparency merkle_tree_test.cc, also in transparency-dev/merkle). They are
checked twice: against `rendao.ledger.merkle` and against a direct, recursive
transcription of the RFC's definitions (MTH, PATH, PROOF/SUBPROOF) written here,
so a slip in a vector or in the iterative implementation cannot hide.
"""

from __future__ import annotations

import hashlib

import pytest

from rendao.ledger import merkle

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (leaf index, 0-based; tree size; audit path) — the CT data counts leaves from 1.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --- the RFC 9162 §2.1 definitions, transcribed literally (recursive, slow, obvious) ---


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:])).digest()


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), rfc_mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [rfc_mth(d)]
    k = _k(n)
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), rfc_mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), rfc_mth(d[:k])]


def rfc_proof(m: int, d: list[bytes]) -> list[bytes]:
    return [] if m == len(d) else rfc_subproof(m, d, True)


def _stored_reader(data: list[bytes]) -> merkle.HashReader:
    """Every complete-subtree hash of `data`, keyed as the server stores them."""
    store: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(data):
        for level, index in merkle.complete_subtrees_ending_at(i):
            store[(level, index)] = rfc_mth(data[index << level : (index + 1) << level])
        assert (0, i) in store
        assert store[(0, i)] == merkle.leaf_hash(leaf)
    return lambda nodes: {n: store[n] for n in nodes if n in store}


def _hex(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_the_empty_tree_hashes_to_the_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root_from_leaf_hashes([]) == merkle.EMPTY_ROOT == rfc_mth([])


def test_the_first_leaf_hash_is_the_known_value() -> None:
    assert merkle.leaf_hash(b"").hex() == ROOTS[1]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_match_the_ct_reference_roots(size: int) -> None:
    data = LEAVES[:size]
    assert rfc_mth(data).hex() == ROOTS[size]
    assert merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in data]).hex() == ROOTS[size]
    assert merkle.tree_root(size, _stored_reader(data)).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_ct_reference_proofs(index: int, size: int, path: list[str]) -> None:
    data = LEAVES[:size]
    assert _hex(rfc_path(index, data)) == path
    assert _hex(merkle.inclusion_proof(index, size, _stored_reader(data))) == path
    merkle.verify_inclusion(
        index,
        size,
        merkle.leaf_hash(data[index]),
        [bytes.fromhex(p) for p in path],
        bytes.fromhex(ROOTS[size]),
    )


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_ct_reference_proofs(old: int, new: int, proof: list[str]) -> None:
    data = LEAVES[:new]
    assert _hex(rfc_proof(old, data)) == proof
    assert _hex(merkle.consistency_proof(old, new, _stored_reader(data))) == proof
    merkle.verify_consistency(
        old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), [bytes.fromhex(p) for p in proof]
    )


def test_a_known_inclusion_proof_for_the_wrong_leaf_is_rejected() -> None:
    index, size, path = INCLUSION[1]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            index,
            size,
            merkle.leaf_hash(LEAVES[1]),
            [bytes.fromhex(p) for p in path],
            bytes.fromhex(ROOTS[size]),
        )


def test_a_known_consistency_proof_against_another_old_root_is_rejected() -> None:
    old, new, proof = CONSISTENCY[2]
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            old, new, bytes.fromhex(ROOTS[5]), bytes.fromhex(ROOTS[new]), [bytes.fromhex(p) for p in proof]
        )

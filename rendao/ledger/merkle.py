"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Standard library only (hashlib), and no Django: the same module verifies on a
journalist's laptop (`rendao.ledger.verify`) and builds proofs on the server.

Terms (RFC 9162 §2.1): D[n] is the list of the first n entries; MTH(D[n]) its
Merkle tree hash; a *complete subtree* is an aligned range of 2^level leaves,
identified by (level, index) and covering leaves [index·2^level, (index+1)·2^level).
The server stores the hash of every complete subtree once it is complete, so any
hash a proof needs is combined from O(log n) stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32

# Reads stored complete-subtree hashes: given (level, index) pairs, returns them.
HashReader = Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]]


class ProofError(ValueError):
    """A proof or a request for one is malformed or does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, iteratively (used by the verifier on whole logs)."""
    if not hashes:
        return EMPTY_ROOT
    # Fold complete subtrees on a stack, as an appender does, then close right to left.
    stack: list[tuple[int, bytes]] = []  # (level, hash)
    for h in hashes:
        level, cur = 0, h
        while stack and stack[-1][0] == level:
            cur = node_hash(stack.pop()[1], cur)
            level += 1
        stack.append((level, cur))
    root = stack[-1][1]
    for _level, h in reversed(stack[:-1]):
        root = node_hash(h, root)
    return root


def complete_subtrees_ending_at(index: int) -> list[tuple[int, int]]:
    """The complete subtrees that leaf `index` completes: (0, index), and upward.

    Appending leaf i completes one subtree per trailing one-bit of i+1... i.e.
    every level ℓ with (i + 1) divisible by 2^ℓ. Storing these as they complete
    stores every complete subtree exactly once (on average two per leaf).
    """
    out = []
    level = 0
    while (index + 1) % (1 << level) == 0:
        out.append((level, index >> level))
        level += 1
    return out


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Aligned complete subtrees covering leaves [start, end), left to right."""
    nodes: list[tuple[int, int]] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length()
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _range_hash(start: int, end: int, hashes: dict[tuple[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) from stored complete-subtree hashes.

    RFC 9162 builds MTH(D[start:end]) by splitting at the largest power of two;
    for the ranges proofs ask about, that split falls on the aligned subtrees of
    `range_nodes`, so hashing those right to left gives the same value.
    """
    nodes = range_nodes(start, end)
    acc = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        acc = node_hash(hashes[node], acc)
    return acc


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PATH(index, D[size]), bottom up."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    return list(reversed(ranges))


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PROOF(old, D[new]) (RFC 9162 SUBPROOF)."""
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    return list(reversed(ranges))


def _hashes_for(ranges: Iterable[tuple[int, int]], read: HashReader) -> list[bytes]:
    ranges = list(ranges)
    needed = sorted({node for r in ranges for node in range_nodes(*r)})
    got = read(needed)
    missing = [n for n in needed if n not in got]
    if missing:
        raise ProofError(f"stored hashes missing: {missing[:3]}")
    return [_range_hash(s, e, got) for s, e in ranges]


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    if not 0 <= index < size:
        raise ProofError("the index is not in a tree of that size")
    return _hashes_for(_inclusion_ranges(index, size), read)


def consistency_proof(old: int, new: int, read: HashReader) -> list[bytes]:
    if not 0 < old <= new:
        raise ProofError("consistency needs 0 < old size ≤ new size")
    if old == new:
        return []
    return _hashes_for(_consistency_ranges(old, new), read)


def tree_root(size: int, read: HashReader) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return _hashes_for([(0, size)], read)[0]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `leaf` is at `index` of the tree `root`."""
    if not 0 <= index < size:
        raise ProofError("the index is not in a tree of that size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            raise ProofError("inclusion proof has the wrong shape")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("inclusion proof does not verify")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless tree `new` extends tree `old`."""
    if old == 0 and not proof:
        return  # every tree extends the empty one
    if not 0 < old <= new:
        raise ProofError("consistency needs 0 < old size ≤ new size")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("consistency proof does not verify")
        return
    path = list(proof)
    if any(len(p) != HASH_SIZE for p in path):
        raise ProofError("consistency proof has the wrong shape")
    if old & (old - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not verify")

"""The ledger router: the latest checkpoint, proofs and entries as JSON, and witnesses' cosignatures.

Conveniences beside the static tiles under /ledger/: a browser checks an
inclusion proof with one request. Everything answers for sizes up to the
latest signed checkpoint only; hashes are standard base64, as in checkpoints.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

import base64
import json
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError

from rendao.core.api import errors
from rendao.ledger import merkle
from rendao.ledger.models import Entry
from rendao.ledger.selectors import checkpoint_note, hash_reader, latest_checkpoint
from rendao.ledger.services import ledger_cosignature_add

router = Router(tags=["ledger"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _published_size() -> int:
    checkpoint = latest_checkpoint()
    return checkpoint.size if checkpoint else 0


class CheckpointOut(Schema):
    size: int = Field(description="Entries the checkpoint covers.")
    root: str = Field(description="The Merkle tree hash, base64.")
    note: str = Field(
        description="The signed checkpoint note with witness cosignatures, as /ledger/checkpoint."
    )
    created_at: datetime


class InclusionIn(Schema):
    index: int = Field(ge=0, description="The entry's index.")
    size: int | None = Field(None, ge=1, description="The tree size; default the latest checkpoint's.")


class InclusionOut(Schema):
    index: int
    size: int
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 ‖ entry data).")
    hashes: list[str] = Field(description="The audit path, bottom up (RFC 9162 §2.1.3), base64.")


class ConsistencyIn(Schema):
    old: int = Field(ge=1, description="The older tree size.")
    new: int | None = Field(None, ge=1, description="The newer tree size; default the latest checkpoint's.")


class ConsistencyOut(Schema):
    old: int
    new: int
    hashes: list[str] = Field(description="The consistency proof (RFC 9162 §2.1.4), base64.")


class EntryOut(Schema):
    index: int
    kind: str
    data: str = Field(description="The leaf: canonical JSON, exactly as hashed.")
    leaf_hash: str
    payload: dict[str, Any] = Field(description="The same data, parsed.")


class CosignatureIn(Schema):
    line: str = Field(max_length=500, description="One C2SP tlog-cosignature/v1 signature line.")


class CosignatureOut(Schema):
    size: int
    witness: str


@router.get(
    "/checkpoint",
    auth=None,
    response={200: CheckpointOut, **errors(404)},
    summary="The latest signed checkpoint",
)
def checkpoint(request: HttpRequest) -> dict[str, Any]:
    latest = latest_checkpoint()
    if latest is None:
        raise Http404
    return {
        "size": latest.size,
        "root": _b64(bytes(latest.root)),
        "note": checkpoint_note(latest),
        "created_at": latest.created_at,
    }


@router.get(
    "/proof/inclusion",
    auth=None,
    response={200: InclusionOut, **errors(422)},
    summary="Proof that an entry is in the tree of a size",
)
def inclusion(request: HttpRequest, query: Query[InclusionIn]) -> dict[str, Any]:
    published = _published_size()
    size = query.size or published
    if size > published:
        raise _invalid("size", _("No signed checkpoint covers a tree of that size yet."))
    if query.index >= size:
        raise _invalid("index", _("The index is beyond the tree of that size."))
    leaf = hash_reader([(0, query.index)])[(0, query.index)]
    proof = merkle.inclusion_proof(query.index, size, hash_reader)
    return {"index": query.index, "size": size, "leaf_hash": _b64(leaf), "hashes": [_b64(h) for h in proof]}


@router.get(
    "/proof/consistency",
    auth=None,
    response={200: ConsistencyOut, **errors(422)},
    summary="Proof that a newer tree extends an older one",
)
def consistency(request: HttpRequest, query: Query[ConsistencyIn]) -> dict[str, Any]:
    published = _published_size()
    new = query.new or published
    if new > published:
        raise _invalid("new", _("No signed checkpoint covers a tree of that size yet."))
    if query.old > new:
        raise _invalid("old", _("The older size is larger than the newer one."))
    proof = merkle.consistency_proof(query.old, new, hash_reader)
    return {"old": query.old, "new": new, "hashes": [_b64(h) for h in proof]}


@router.get(
    "/entries/{index}", auth=None, response={200: EntryOut, **errors(404, 422)}, summary="One entry by index"
)
def entry(request: HttpRequest, index: int) -> dict[str, Any]:
    if not 0 <= index < _published_size():
        raise Http404
    row = Entry.objects.get(index=index)
    data = bytes(row.data)
    return {
        "index": row.index,
        "kind": row.kind,
        "data": data.decode(),
        "leaf_hash": _b64(bytes(row.leaf_hash)),
        "payload": json.loads(data),
    }


@router.post(
    "/checkpoints/{size}/cosignatures",
    auth=None,
    response={201: CosignatureOut, **errors(422)},
    summary="A witness cosigns a checkpoint (C2SP tlog-cosignature)",
)
def cosign(request: HttpRequest, size: int, body: CosignatureIn) -> Status[dict[str, Any]]:
    """Accepted only from a witness configured in RENDAO_LEDGER_WITNESSES, verified against its key."""
    stored = ledger_cosignature_add(size=size, line=body.line)
    return Status(201, {"size": size, "witness": stored.witness})

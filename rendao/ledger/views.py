"""The static read API under /ledger/, in the C2SP tlog-tiles layout.

Anyone may read it without signing in: the log is public by design and its
leaves hold no personal data. Everything is served for the latest signed
checkpoint only, so a reader never sees hashes no checkpoint has committed to.
Tiles are immutable once they exist (a partial tile of width W never changes
either), so they are cached for a year; the checkpoint for a few seconds.
"""

from __future__ import annotations

import struct

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from rendao.ledger.keys import ledger_verifier
from rendao.ledger.note import TILE_HEIGHT, TILE_WIDTH, NoteError, parse_tile_index
from rendao.ledger.selectors import checkpoint_note, entries_data, latest_checkpoint, tile_hashes

IMMUTABLE = "public, max-age=31536000, immutable"
# Long enough to absorb a crowd, short enough that new entries show within seconds.
CHECKPOINT_CACHE = "public, max-age=5"
# Tree levels above this hold no tiles a 64-bit index could reach.
MAX_TILE_LEVEL = 7


def _text(body: str, cache_control: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = cache_control
    return response


def _binary(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    return response


def _published_size() -> int:
    checkpoint = latest_checkpoint()
    return checkpoint.size if checkpoint else 0


def _tile_range(path: str, nodes_available: int) -> tuple[int, int]:
    """(first index, width) of tile `path`, or 404 if malformed or not yet complete to that width."""
    try:
        number, width = parse_tile_index(path)
    except NoteError:
        raise Http404 from None
    start = number * TILE_WIDTH
    if start + width > nodes_available:
        raise Http404
    return start, width


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = latest_checkpoint()
    if latest is None:
        raise Http404
    return _text(checkpoint_note(latest), CHECKPOINT_CACHE)


@require_safe
def key(request: HttpRequest) -> HttpResponse:
    return _text(ledger_verifier().encode() + "\n", "public, max-age=3600")


@require_safe
def tile(request: HttpRequest, level: str, path: str) -> HttpResponse:
    tile_level = int(level)
    if tile_level > MAX_TILE_LEVEL or (len(level) > 1 and level.startswith("0")):
        raise Http404
    tree_level = tile_level * TILE_HEIGHT
    start, width = _tile_range(path, _published_size() >> tree_level)
    hashes = tile_hashes(tree_level, start, width)
    if hashes is None:
        raise Http404
    return _binary(b"".join(hashes))


@require_safe
def entries(request: HttpRequest, path: str) -> HttpResponse:
    start, width = _tile_range(path, _published_size())
    data = entries_data(start, width)
    if data is None:
        raise Http404
    # C2SP tlog-tiles entry bundle: each entry as a big-endian uint16 length, then its bytes.
    return _binary(b"".join(struct.pack(">H", len(d)) + d for d in data))

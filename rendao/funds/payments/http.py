"""HTTP plumbing shared by the payment adapters (standard library only).

Like rendao/core/channels/http.py, but returning raw bytes and headers: WeChat
Pay signs the exact bytes of its answers and bills are not JSON. Every call has
a timeout, network trouble becomes TransientChannelError naming the exception
type only (URLs carry signatures), and answers are capped in size.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from rendao.funds.payments import TransientChannelError

# A daily bill of a busy merchant is a few MB; an API answer a few KB.
MAX_ANSWER_BYTES = 64 << 20


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def call(
    what: str, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
) -> Answer:
    """One HTTP call. Error statuses are returned, not raised: each channel says
    in the body what went wrong and the adapter maps it."""
    if not is_http_url(url):
        raise TransientChannelError(f"{what}: the endpoint is not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=settings.PAYMENT_HTTP_TIMEOUT) as response:  # noqa: S310
            return _answer(response.status, response.headers.items(), response.read(MAX_ANSWER_BYTES + 1))
    except urllib.error.HTTPError as exc:
        with exc:
            return _answer(exc.code, exc.headers.items(), exc.read(MAX_ANSWER_BYTES + 1))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientChannelError(
            f"{what}: could not reach the channel ({type(reason).__name__})"
        ) from None


def _answer(status: int, headers: object, body: bytes) -> Answer:
    if len(body) > MAX_ANSWER_BYTES:
        raise TransientChannelError("the channel's answer is larger than expected")
    pairs = headers if isinstance(headers, list) else list(headers)  # type: ignore[call-overload]
    return Answer(status, {str(k).lower(): str(v) for k, v in pairs}, body)

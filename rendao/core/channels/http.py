"""HTTP plumbing shared by the adapters that talk to a provider's web API.

Only the standard library (urllib.request): each adapter makes one or two JSON
calls per message, which does not justify a new dependency. What this module
adds is what every adapter would otherwise repeat: a timeout on every call,
network failures turned into `TransientError`, a cap on the size of an answer,
error texts that never quote a URL (query strings carry access tokens and
signatures), and a cross-process cache of access tokens.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache

from rendao.core.channels import TransientError

# A provider's answer is a small JSON object; anything bigger is not one.
MAX_ANSWER_BYTES = 1 << 20
# An access token is refreshed this long before the provider says it expires, so
# that a token fetched by one process is never used by another after its end.
TOKEN_MARGIN_SECONDS = 300


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time without sleeping."""
    return time.time()


@dataclass(frozen=True)
class Answer:
    """A provider's HTTP answer: status code and decoded JSON object ({} if none)."""

    status: int
    data: dict[str, Any]


def is_http_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL (urllib would also open file:// URLs)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def call(
    what: str,
    url: str,
    *,
    query: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
) -> Answer:
    """One HTTP call; GET unless a body is given, then POST.

    Network trouble (refused, reset, timed out, DNS) raises TransientError naming
    `what` and the exception type only. HTTP error statuses are returned, not
    raised: each provider says in the body what went wrong, and the adapter maps
    that to transient or permanent.
    """
    if not is_http_url(url):
        # Checked at start-up too; repeated here because urllib opens any scheme.
        raise TransientError(f"{what}: the configured endpoint is not an http(s) URL")
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    data: bytes | None = None
    headers = {"Accept": "application/json", "User-Agent": "rendao"}
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    elif form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=settings.CHANNEL_HTTP_TIMEOUT) as response:  # noqa: S310
            return Answer(response.status, _decode(response.read(MAX_ANSWER_BYTES + 1)))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, _decode(exc.read(MAX_ANSWER_BYTES + 1)))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        # The exception text may contain the URL, and with it a token: type only.
        reason = getattr(exc, "reason", exc)
        raise TransientError(f"{what}: could not reach the provider ({type(reason).__name__})") from None


def _decode(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_ANSWER_BYTES:
        return {}
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def server_trouble(what: str, answer: Answer) -> TransientError | None:
    """A TransientError for 5xx and 429 answers, which say nothing about the message."""
    if answer.status >= 500 or answer.status == 429:
        return TransientError(f"{what}: the provider answered HTTP {answer.status}")
    return None


class TokenCache:
    """Access tokens of one provider account, shared by every process through the cache.

    DingTalk, WeCom and WeChat hand out tokens valid for about two hours and
    limit how often new ones may be fetched; fetching one per message would hit
    that limit and (for WeChat's classic token) invalidate the tokens other
    processes hold. The cache key is derived from the account id, never the secret.
    """

    def __init__(self, adapter: str, account: str) -> None:
        digest = hashlib.sha256(account.encode()).hexdigest()[:16]
        self.key = f"rendao:channel:{adapter}:token:{digest}"

    def get(self, fetch: Callable[[], tuple[str, int]]) -> str:
        """The cached token, or a new one from `fetch()` → (token, expires_in seconds)."""
        cached = cache.get(self.key)
        now = clock()
        if isinstance(cached, tuple) and len(cached) == 2 and cached[1] > now:
            return str(cached[0])
        token, expires_in = fetch()
        lifetime = max(int(expires_in) - TOKEN_MARGIN_SECONDS, 60)
        cache.set(self.key, (token, now + lifetime), lifetime)
        return token

    def forget(self) -> None:
        """Drop the cached token (the provider said it expired or is invalid)."""
        cache.delete(self.key)

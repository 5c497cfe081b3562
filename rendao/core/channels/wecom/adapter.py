"""WeCom (企业微信) application messages.

GET /cgi-bin/gettoken (corpid, corpsecret) gives an access token, cached across
processes until shortly before it expires; POST /cgi-bin/message/send with
agentid, touser and msgtype text (or textcard when the message has a subject).
An expired or invalid token (errcode 42001 / 40014 / 40082) is refreshed and the
send tried once more.

Idempotency: message/send takes no idempotency key, but with
enable_duplicate_check WeCom drops a request whose JSON equals one sent within
duplicate_check_interval; a retry after a crash is such a request. The price is
that two genuinely identical messages to one person within that interval arrive
once, which for notifications is what one wants anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.checks import CheckMessage

from rendao.core.channels import DeliveryResult, PermanentError, TransientError, http
from rendao.core.channels.wecom import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage

WHAT = "WeCom"
TOKEN_CODES = frozenset({40014, 42001, 40082})
# System busy, API call frequency and concurrency limits.
BUSY_CODES = frozenset({-1, 45009, 45033, 45011})
# Seconds within which an identical request is dropped (WeCom's default; max 4 h).
DUPLICATE_CHECK_SECONDS = 1800


def _errcode(answer: http.Answer) -> int | None:
    value = answer.data.get("errcode")
    return value if isinstance(value, int) else None


class WeComChannel:
    """Application messages to one WeCom member, by their WeCom user id."""

    name = "wecom"

    def __init__(self) -> None:
        self.tokens = http.TokenCache(self.name, f"{settings.WECOM_CORP_ID}:{settings.WECOM_AGENT_ID}")

    def _fetch_token(self) -> tuple[str, int]:
        answer = http.call(
            f"{WHAT} gettoken",
            f"{settings.WECOM_API}/cgi-bin/gettoken",
            query={"corpid": settings.WECOM_CORP_ID, "corpsecret": settings.WECOM_CORP_SECRET},
        )
        token = answer.data.get("access_token")
        if answer.status == 200 and _errcode(answer) == 0 and isinstance(token, str) and token:
            return token, int(answer.data.get("expires_in", 7200))
        trouble = http.server_trouble(f"{WHAT} gettoken", answer)
        if trouble is not None or _errcode(answer) in BUSY_CODES:
            raise trouble or TransientError(f"{WHAT} gettoken is busy (errcode {_errcode(answer)})")
        # 40013 invalid corpid, 40001 / 40091 invalid secret, 60020 IP not allowed.
        raise PermanentError(f"{WHAT} refused the app credentials (errcode {_errcode(answer)})")

    def _payload(self, message: OutboxMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "touser": message.recipient,
            "agentid": int(settings.WECOM_AGENT_ID),
            "safe": 0,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
        }
        if message.subject:
            # A card shows the subject as its title and links to the site.
            payload["msgtype"] = "textcard"
            payload["textcard"] = {
                "title": message.subject,
                "description": message.body,
                "url": f"{settings.SITE_URL}/my/",
            }
        else:
            payload["msgtype"] = "text"
            payload["text"] = {"content": message.body}
        return payload

    def _post(self, payload: dict[str, Any], token: str) -> http.Answer:
        return http.call(
            WHAT,
            f"{settings.WECOM_API}/cgi-bin/message/send",
            query={"access_token": token},
            json_body=payload,
        )

    def send(self, message: OutboxMessage) -> DeliveryResult:
        if not message.recipient or "|" in message.recipient or message.recipient == "@all":
            # "@all" and "a|b" would reach more than the one person meant.
            raise PermanentError("the recipient is not one WeCom user id")
        payload = self._payload(message)
        answer = self._post(payload, self.tokens.get(self._fetch_token))
        if _errcode(answer) in TOKEN_CODES:
            self.tokens.forget()
            answer = self._post(payload, self.tokens.get(self._fetch_token))
        code = _errcode(answer)
        if answer.status == 200 and code == 0:
            if answer.data.get("invaliduser") or answer.data.get("unlicenseduser"):
                raise PermanentError(f"{WHAT}: the recipient is not a member this app can reach")
            return DeliveryResult(provider_id=str(answer.data.get("msgid", "")))
        trouble = http.server_trouble(WHAT, answer)
        if trouble is not None:
            raise trouble
        if code is None:
            raise TransientError(f"{WHAT}: unreadable answer (HTTP {answer.status})")
        if code in BUSY_CODES or code in TOKEN_CODES:
            raise TransientError(f"{WHAT} is busy or throttling (errcode {code})")
        # 81013: no recipient valid; 40056 invalid agentid; 60020 IP not allowed; …
        raise PermanentError(f"{WHAT} refused the message (errcode {code})")

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

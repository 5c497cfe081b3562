"""WeChat official account (公众号) template messages.

POST /cgi-bin/stable_token (grant_type client_credential, appid, secret) gives
an access token. The "stable" token is used rather than the classic
GET /cgi-bin/token because fetching a classic token invalidates the one other
processes hold; it is cached across processes anyway. Then POST
/cgi-bin/message/template/send with touser (the follower's openid),
template_id, url and data ({key: {"value": …}}). The template's keys (thing1,
time2…) are mapped to our placeholders in RENDAO_WECHAT_MP_TEMPLATES; the values
travel with the outbox row (`OutboxMessage.params`, encrypted).

Idempotency: the outbox id goes in client_msg_id, WeChat's 防重入 id: a second
request with the same openid and client_msg_id (within its window) is not sent
again. An invalid or expired token (40001 / 40014 / 42001) is refreshed with
force_refresh and the send tried once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.checks import CheckMessage

from rendao.core.channels import DeliveryResult, PermanentError, TransientError, http
from rendao.core.channels.wechat_mp import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage

WHAT = "WeChat"
TOKEN_CODES = frozenset({40001, 40014, 42001})
# System busy, API quota and frequency limits.
BUSY_CODES = frozenset({-1, 45009, 45011, 45047})


def _errcode(answer: http.Answer) -> int | None:
    value = answer.data.get("errcode")
    return value if isinstance(value, int) else None


class WeChatMpChannel:
    """Template messages from the society's official account to a follower."""

    name = "wechat_mp"

    def __init__(self) -> None:
        self.tokens = http.TokenCache(self.name, settings.WECHAT_MP_APP_ID)

    def _fetcher(self, force: bool) -> Callable[[], tuple[str, int]]:
        def fetch() -> tuple[str, int]:
            answer = http.call(
                f"{WHAT} stable_token",
                f"{settings.WECHAT_MP_API}/cgi-bin/stable_token",
                json_body={
                    "grant_type": "client_credential",
                    "appid": settings.WECHAT_MP_APP_ID,
                    "secret": settings.WECHAT_MP_APP_SECRET,
                    "force_refresh": force,
                },
            )
            token = answer.data.get("access_token")
            # A successful token answer carries no errcode at all.
            if answer.status == 200 and _errcode(answer) in (None, 0) and isinstance(token, str) and token:
                return token, int(answer.data.get("expires_in", 7200))
            trouble = http.server_trouble(f"{WHAT} stable_token", answer)
            if trouble is not None or _errcode(answer) in BUSY_CODES:
                raise trouble or TransientError(f"{WHAT} stable_token is busy (errcode {_errcode(answer)})")
            # 40013 invalid appid, 40125 invalid secret, 40164 IP not whitelisted.
            raise PermanentError(f"{WHAT} refused the account credentials (errcode {_errcode(answer)})")

        return fetch

    def _post(self, payload: dict[str, Any], token: str) -> http.Answer:
        return http.call(
            WHAT,
            f"{settings.WECHAT_MP_API}/cgi-bin/message/template/send",
            query={"access_token": token},
            json_body=payload,
        )

    def send(self, message: OutboxMessage) -> DeliveryResult:
        from rendao.core.messages import TemplateError, provider_templates

        try:
            templates = provider_templates(settings.WECHAT_MP_TEMPLATES, "RENDAO_WECHAT_MP_TEMPLATES")
            template = templates.get(message.kind)
            if template is None:
                raise PermanentError(
                    f"no WeChat template for message type {message.kind!r} (RENDAO_WECHAT_MP_TEMPLATES)"
                )
            if not message.params:
                raise PermanentError("the message carries no template values (send it with notify)")
            params = message.template_values
        except TemplateError as exc:
            raise PermanentError(str(exc)) from None
        if not message.recipient:
            raise PermanentError("the message has no WeChat openid")
        url = params.get("url", "")
        payload = {
            "touser": message.recipient,
            "template_id": template.template_id,
            "url": url if http.is_http_url(url) else f"{settings.SITE_URL}/my/",
            "data": {key: {"value": value} for key, value in template.values(params).items()},
            "client_msg_id": str(message.pk),
        }
        answer = self._post(payload, self.tokens.get(self._fetcher(force=False)))
        if _errcode(answer) in TOKEN_CODES:
            self.tokens.forget()
            answer = self._post(payload, self.tokens.get(self._fetcher(force=True)))
        code = _errcode(answer)
        if answer.status == 200 and code == 0:
            return DeliveryResult(provider_id=str(answer.data.get("msgid", "")))
        trouble = http.server_trouble(WHAT, answer)
        if trouble is not None:
            raise trouble
        if code is None or code in BUSY_CODES or code in TOKEN_CODES:
            raise TransientError(f"{WHAT} is busy or answered unreadably (errcode {code})")
        # 40003 invalid openid, 43004 not a follower, 40037 invalid template, 47003 bad data.
        raise PermanentError(f"{WHAT} refused the message (errcode {code})")

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

"""DingTalk (钉钉): work notifications from the corp app, and a signed group robot.

Work notification ("dingtalk"): an access token from /gettoken (appkey,
appsecret), cached across processes until shortly before it expires, then
POST /topapi/message/corpconversation/asyncsend_v2 with agent_id, userid_list
and msg. The recipient is the person's DingTalk user id.

Group robot ("dingtalk_robot"): POST /robot/send?access_token=…&timestamp=…&sign=…
where sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))) and
timestamp is in milliseconds (DingTalk refuses one more than an hour off). The
message goes to the robot's group; the recipient is only a label (e.g. "office").

Idempotency: neither API takes an idempotency key. DingTalk itself drops a work
notification whose content equals one the same user got from the same app that
day, which covers a retry after a crash; the robot has no such guard, so a crash
between acceptance and recording can post twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.checks import CheckMessage

from rendao.core.channels import DeliveryResult, PermanentError, TransientError, http
from rendao.core.channels.dingtalk import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage

WHAT = "DingTalk"
# The access token is invalid or has expired: fetch a new one and try once more.
TOKEN_CODES = frozenset({40014, 42001})
# System busy and the platform's call-frequency limits.
BUSY_CODES = frozenset({-1, 90002, 90006, 90018, 130101, 410100})


def _errcode(answer: http.Answer) -> int | None:
    value = answer.data.get("errcode")
    return value if isinstance(value, int) else None


def _refused(what: str, answer: http.Answer) -> TransientError | PermanentError:
    # errmsg may echo request fields (user ids): only the code is kept.
    trouble = http.server_trouble(what, answer)
    if trouble is not None:
        return trouble
    code = _errcode(answer)
    if code is None:
        return TransientError(f"{what}: unreadable answer (HTTP {answer.status})")
    if code in BUSY_CODES:
        return TransientError(f"{what} is busy or throttling (errcode {code})")
    return PermanentError(f"{what} refused the message (errcode {code})")


def text_of(message: OutboxMessage) -> str:
    return f"{message.subject}\n{message.body}" if message.subject else message.body


class DingTalkChannel:
    """Work notifications (工作通知) to one DingTalk user, from the society's corp app."""

    name = "dingtalk"

    def __init__(self) -> None:
        self.tokens = http.TokenCache(self.name, settings.DINGTALK_APP_KEY)

    def _fetch_token(self) -> tuple[str, int]:
        answer = http.call(
            f"{WHAT} gettoken",
            f"{settings.DINGTALK_API}/gettoken",
            query={"appkey": settings.DINGTALK_APP_KEY, "appsecret": settings.DINGTALK_APP_SECRET},
        )
        token = answer.data.get("access_token")
        if answer.status == 200 and _errcode(answer) == 0 and isinstance(token, str) and token:
            return token, int(answer.data.get("expires_in", 7200))
        trouble = http.server_trouble(f"{WHAT} gettoken", answer)
        if trouble is not None or _errcode(answer) in BUSY_CODES:
            raise trouble or TransientError(f"{WHAT} gettoken is busy (errcode {_errcode(answer)})")
        # Wrong AppKey or AppSecret, or this server's IP is not allowed.
        raise PermanentError(f"{WHAT} refused the app credentials (errcode {_errcode(answer)})")

    def _post(self, message: OutboxMessage, token: str) -> http.Answer:
        body: dict[str, Any] = {
            "agent_id": int(settings.DINGTALK_AGENT_ID),
            "userid_list": message.recipient,
            "msg": {"msgtype": "text", "text": {"content": text_of(message)}},
        }
        return http.call(
            WHAT,
            f"{settings.DINGTALK_API}/topapi/message/corpconversation/asyncsend_v2",
            query={"access_token": token},
            json_body=body,
        )

    def send(self, message: OutboxMessage) -> DeliveryResult:
        if not message.recipient or "," in message.recipient:
            raise PermanentError("the recipient is not one DingTalk user id")
        answer = self._post(message, self.tokens.get(self._fetch_token))
        if _errcode(answer) in TOKEN_CODES:
            self.tokens.forget()
            answer = self._post(message, self.tokens.get(self._fetch_token))
        if answer.status == 200 and _errcode(answer) == 0:
            # Sending is asynchronous: an unknown user id shows up later in the
            # task's result (getsendresult), not here.
            return DeliveryResult(provider_id=f"dingtalk-task:{answer.data.get('task_id', '')}")
        raise _refused(WHAT, answer)

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()


def robot_sign(timestamp_ms: int, secret: str) -> str:
    """The robot signature before URL encoding: base64(HMAC-SHA256(secret, "ts\\nsecret"))."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()).decode()


class DingTalkRobotChannel:
    """Posts to one DingTalk group through its custom robot, signed (加签)."""

    name = "dingtalk_robot"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        timestamp = int(http.clock() * 1000)
        answer = http.call(
            f"{WHAT} robot",
            f"{settings.DINGTALK_API}/robot/send",
            # urlencode() percent-encodes the base64 signature, as DingTalk requires.
            query={
                "access_token": settings.DINGTALK_ROBOT_TOKEN,
                "timestamp": str(timestamp),
                "sign": robot_sign(timestamp, settings.DINGTALK_ROBOT_SECRET),
            },
            json_body={"msgtype": "text", "text": {"content": text_of(message)}},
        )
        if answer.status == 200 and _errcode(answer) == 0:
            return DeliveryResult(provider_id=f"dingtalk-robot:{message.pk}")
        raise _refused(f"{WHAT} robot", answer)

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_robot_settings()

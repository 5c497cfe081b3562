"""A fake of the DingTalk open platform: gettoken, work notifications, group robot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from rendao.core.tests.fakes import FakeProvider, Received


class FakeDingTalk(FakeProvider):
    app_key = "ding-test-key"
    app_secret = "ding-test-secret"
    agent_id = 2001
    robot_token = "robot-test-token"
    robot_secret = "SEC-robot-test-secret"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}  # token → "valid" | "expired"
        self.busy_next = 0
        self.notifications: list[dict[str, Any]] = []
        self.robot_posts: list[dict[str, Any]] = []

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = "expired"

    def handle(self, request: Received) -> tuple[int, dict[str, Any]]:
        if request.path == "/gettoken" and request.method == "GET":
            if (
                request.query.get("appkey") != self.app_key
                or request.query.get("appsecret") != self.app_secret
            ):
                return 200, {"errcode": 40089, "errmsg": "不合法的appkey或appsecret"}
            token = f"ding-token-{len(self.tokens) + 1}"
            self.tokens[token] = "valid"
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if request.path == "/topapi/message/corpconversation/asyncsend_v2" and request.method == "POST":
            state = self.tokens.get(request.query.get("access_token", ""))
            if state is None:
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            if state == "expired":
                return 200, {"errcode": 42001, "errmsg": "access_token超时"}
            if self.busy_next > 0:
                self.busy_next -= 1
                return 200, {"errcode": 90018, "errmsg": "请求频率超限"}
            body = request.json()
            msg = body.get("msg") or {}
            if body.get("agent_id") != self.agent_id:
                return 200, {"errcode": 40035, "errmsg": "不合法的参数: agent_id"}
            if (
                not body.get("userid_list")
                or msg.get("msgtype") != "text"
                or not (msg.get("text") or {}).get("content")
            ):
                return 200, {"errcode": 40035, "errmsg": "缺少参数"}
            self.notifications.append(body)
            return 200, {
                "errcode": 0,
                "task_id": 256271667526 + len(self.notifications),
                "request_id": "req-1",
            }
        if request.path == "/robot/send" and request.method == "POST":
            return self._robot(request)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _robot(self, request: Received) -> tuple[int, dict[str, Any]]:
        if request.query.get("access_token") != self.robot_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        try:
            stamp = int(request.query.get("timestamp", ""))
        except ValueError:
            return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
        # DingTalk refuses a timestamp more than an hour away from its own clock.
        if abs(stamp - time.time() * 1000) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
        to_sign = f"{stamp}\n{self.robot_secret}".encode()
        expected = base64.b64encode(
            hmac.new(self.robot_secret.encode(), to_sign, hashlib.sha256).digest()
        ).decode()
        # The query string was percent-decoded by the parser, as DingTalk's is.
        if not hmac.compare_digest(expected, request.query.get("sign", "")):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if self.busy_next > 0:
            self.busy_next -= 1
            return 200, {"errcode": 410100, "errmsg": "send too fast, exceed 20 times per minute"}
        body = request.json()
        if body.get("msgtype") != "text" or not (body.get("text") or {}).get("content"):
            return 200, {"errcode": 400101, "errmsg": "param error"}
        self.robot_posts.append(body)
        return 200, {"errcode": 0, "errmsg": "ok"}

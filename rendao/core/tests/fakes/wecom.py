"""A fake of WeCom (企业微信): gettoken and message/send."""

from __future__ import annotations

import json
from typing import Any

from rendao.core.tests.fakes import FakeProvider, Received


class FakeWeCom(FakeProvider):
    corp_id = "ww-test-corp"
    corp_secret = "wecom-test-secret"
    agent_id = 1000002

    def __init__(self) -> None:
        super().__init__()
        self.members: set[str] = {"zhangsan", "lisi"}
        self.tokens: dict[str, str] = {}
        self.busy_next = 0
        self.delivered: list[dict[str, Any]] = []
        self._recent: set[str] = set()  # request bodies seen with duplicate check on

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = "expired"

    def handle(self, request: Received) -> tuple[int, dict[str, Any]]:
        if request.path == "/cgi-bin/gettoken" and request.method == "GET":
            if request.query.get("corpid") != self.corp_id:
                return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
            if request.query.get("corpsecret") != self.corp_secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            token = f"wecom-token-{len(self.tokens) + 1}"
            self.tokens[token] = "valid"
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if request.path == "/cgi-bin/message/send" and request.method == "POST":
            return self._send(request)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _send(self, request: Received) -> tuple[int, dict[str, Any]]:
        state = self.tokens.get(request.query.get("access_token", ""))
        if state is None:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        if state == "expired":
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if self.busy_next > 0:
            self.busy_next -= 1
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        body = request.json()
        if body.get("agentid") != self.agent_id:
            return 200, {"errcode": 40056, "errmsg": "invalid agentid"}
        kind = body.get("msgtype")
        if kind == "text":
            if not (body.get("text") or {}).get("content"):
                return 200, {"errcode": 44004, "errmsg": "empty content"}
        elif kind == "textcard":
            card = body.get("textcard") or {}
            if not card.get("title") or not card.get("description") or not card.get("url"):
                return 200, {"errcode": 41011, "errmsg": "missing textcard field"}
        else:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        invalid = [u for u in users if u not in self.members]
        if not users or len(invalid) == len(users):
            return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        signature = json.dumps(body, sort_keys=True)
        if body.get("enable_duplicate_check") == 1 and signature in self._recent:
            # Accepted but not shown again: that is the point of the check.
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "dup"}
        self._recent.add(signature)
        self.delivered.append(body)
        return 200, {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "msgid": f"msg-{len(self.delivered)}",
        }

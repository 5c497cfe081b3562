"""A fake of the WeChat official account API: stable_token and template messages."""

from __future__ import annotations

from typing import Any

from rendao.core.tests.fakes import FakeProvider, Received

FOLLOWER = "oWx_follower_0123456789abcd"
UNFOLLOWED = "oWx_unfollowed_0123456789ab"


class FakeWeChat(FakeProvider):
    app_id = "wx-test-app"
    app_secret = "wechat-test-secret"

    def __init__(self) -> None:
        super().__init__()
        self.followers: set[str] = {FOLLOWER}
        self.former_followers: set[str] = {UNFOLLOWED}
        # Template id → its data keys.
        self.templates: dict[str, set[str]] = {"tmpl-reminder": {"thing1", "time2"}}
        self.tokens: dict[str, str] = {}
        self.busy_next = 0
        self.delivered: list[dict[str, Any]] = []
        self._by_client_id: dict[tuple[str, str], int] = {}

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = "expired"

    def handle(self, request: Received) -> tuple[int, dict[str, Any]]:
        if request.path == "/cgi-bin/stable_token" and request.method == "POST":
            body = request.json()
            if body.get("grant_type") != "client_credential":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            if body.get("appid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if body.get("secret") != self.app_secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            current = [t for t, state in self.tokens.items() if state == "valid"]
            if current and not body.get("force_refresh"):
                # Normal mode: the same token while it is valid.
                return 200, {"access_token": current[0], "expires_in": 7200}
            self.expire_tokens()
            token = f"wx-token-{len(self.tokens) + 1}"
            self.tokens[token] = "valid"
            return 200, {"access_token": token, "expires_in": 7200}
        if request.path == "/cgi-bin/message/template/send" and request.method == "POST":
            return self._send(request)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _send(self, request: Received) -> tuple[int, dict[str, Any]]:
        state = self.tokens.get(request.query.get("access_token", ""))
        if state is None:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if state == "expired":
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if self.busy_next > 0:
            self.busy_next -= 1
            return 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        body = request.json()
        openid = body.get("touser", "")
        if openid in self.former_followers:
            return 200, {"errcode": 43004, "errmsg": "require subscribe"}
        if openid not in self.followers:
            return 200, {"errcode": 40003, "errmsg": "invalid openid"}
        keys = self.templates.get(body.get("template_id", ""))
        if keys is None:
            return 200, {"errcode": 40037, "errmsg": "invalid template_id"}
        data = body.get("data") or {}
        if set(data) != keys or not all(isinstance(v, dict) and v.get("value") for v in data.values()):
            return 200, {"errcode": 47003, "errmsg": "argument invalid! data.keyword invalid"}
        client_id = body.get("client_msg_id", "")
        if client_id and (openid, client_id) in self._by_client_id:
            # 防重入: the same client_msg_id for the same follower is not sent again.
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": self._by_client_id[(openid, client_id)]}
        self.delivered.append(body)
        msgid = 200228332 + len(self.delivered)
        if client_id:
            self._by_client_id[(openid, client_id)] = msgid
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}

"""The WeChat official account adapter: template messages to followers by openid."""

"""Alipay open API (RSA2): page/wap pay URLs, notifications, query, close, refund, bills."""

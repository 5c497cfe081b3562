"""WeChat Pay API v3: JSAPI/H5/Native orders, signed notifications, query, close, refund, bills."""

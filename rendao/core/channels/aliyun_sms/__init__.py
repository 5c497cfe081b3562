"""The Alibaba Cloud SMS adapter: dysmsapi SendSms with approved templates, RPC-signed."""

"""The sandbox channel: a local cashier and HMAC-signed notifications, for the demo and tests."""

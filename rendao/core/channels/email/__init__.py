"""The email adapter: Django's mail API through the configured EMAIL_BACKEND."""

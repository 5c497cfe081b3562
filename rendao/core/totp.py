"""TOTP helpers: the enrolment QR code and secret, and demo accounts' current codes."""

from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify

import segno
from django.conf import settings
from django.core.management.base import CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core.models import User


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI (CSP allows data: images, not inline script)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=2))


def secret_for_typing(key_hex: str) -> str:
    """The base32 secret in groups of four, for typing into an app without a camera."""
    b32 = b32encode(unhexlify(key_hex)).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def current_demo_code(username: str) -> str:
    """The current six-digit code of a demo account's TOTP device.

    Refused for real accounts and in production: a code printer for any account
    would turn database access into a second factor.
    """
    if settings.RENDAO_ENV == "production":
        raise CommandError("Printing TOTP codes is disabled in production.")
    user = User.objects.filter(username=username, is_demo=True).first()
    if user is None:
        raise CommandError(f"{username!r} is not a demo account.")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise CommandError(f"{username!r} has no TOTP device.")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"

"""Loading the RSA keys the payment channels sign and verify with (PEM files).

WeChat Pay and Alipay both sign with SHA256withRSA (PKCS#1 v1.5): the merchant's
or app's private key for requests, the channel's public key (or certificate)
for notifications and answers.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from rendao.funds.payments import PermanentChannelError


def load_private_key(path: str, what: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PermanentChannelError(f"{what} is not an RSA key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """A PEM public key, or the public key of a PEM certificate."""
    key = (
        x509.load_pem_x509_certificate(pem).public_key()
        if b"BEGIN CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()

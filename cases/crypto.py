"""Personal numbers at rest: Fernet encryption plus a keyed hash for exact lookup.

A database dump alone reveals neither ID numbers nor phones: the ciphertext needs
FIELD_ENCRYPTION_KEYS and the lookup column is an HMAC under FIELD_HASH_KEY. Key rotation: put
the new key first in FIELD_ENCRYPTION_KEYS (MultiFernet encrypts with the first and decrypts with
any), run `manage.py rotate_field_keys`, then drop the old key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode() if token else ""


def normalize_id_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def normalize_phone(value: str) -> str:
    """Digits only, without the +86 / 0086 country prefix: '+86 138-0013 8000' → '13800138000'."""
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def lookup_hash(kind: str, normalized: str) -> str:
    if not normalized:
        return ""
    key = settings.FIELD_HASH_KEY.encode()
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """4301**********1234: region prefix and last four, as the issue asks."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]

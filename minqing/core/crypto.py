"""Encryption at rest for the most sensitive fields (ID numbers, phones, health notes).

AES-256-GCM (authenticated: a changed byte fails to decrypt instead of yielding garbage), a
fresh 96-bit nonce per value, the key id stored with each value so keys can be rotated:

    v1$<key id>$<urlsafe base64 of nonce + ciphertext + tag>

MINQING_DATA_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>" — the first key encrypts, all of
them decrypt; `manage.py rotate_data_key` re-encrypts old rows under the first key.
MINQING_INDEX_KEY="<base64 32 bytes>" keys the HMAC-SHA256 "blind index" that lets an exact
ID number be found, de-duplicated and kept unique without decrypting anything. It cannot be
rotated without recomputing every hash (`rotate_data_key --reindex`).

A database dump alone therefore reveals no ID number: both keys live only in the environment.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1$"
_AAD = b"minqing"


class DecryptionError(Exception):
    pass


def _b64key(raw: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4))
    except ValueError:
        raise ImproperlyConfigured(f"{name}: not base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name}: a key must be 32 bytes (base64 of 32 random bytes)")
    return key


def _dev_key(purpose: str) -> bytes:
    return hashlib.sha256(f"minqing-dev-{purpose}:{settings.SECRET_KEY}".encode()).digest()


@lru_cache(maxsize=1)
def data_keys() -> tuple[tuple[str, bytes], ...]:
    raw = os.environ.get("MINQING_DATA_KEYS", "").strip()
    if not raw:
        if settings.DEBUG or os.environ.get("MINQING_DEV"):
            return (("dev", _dev_key("data")),)
        raise ImproperlyConfigured("MINQING_DATA_KEYS is required (see README: encryption keys)")
    keys = []
    for part in raw.split(","):
        kid, sep, b64 = part.partition(":")
        if not sep or not kid.strip() or "$" in kid:
            raise ImproperlyConfigured("MINQING_DATA_KEYS: use 'id:base64key,id2:base64key'")
        kid = kid.strip()
        if any(kid == seen for seen, _key in keys):
            # Two keys under one id: a value sealed by one was tried with the other.
            raise ImproperlyConfigured(f"MINQING_DATA_KEYS: the key id {kid!r} is given twice")
        keys.append((kid, _b64key(b64, f"MINQING_DATA_KEYS[{kid}]")))
    return tuple(keys)


@lru_cache(maxsize=1)
def index_key() -> bytes:
    raw = os.environ.get("MINQING_INDEX_KEY", "").strip()
    if not raw:
        if settings.DEBUG or os.environ.get("MINQING_DEV"):
            return _dev_key("index")
        raise ImproperlyConfigured("MINQING_INDEX_KEY is required (see README: encryption keys)")
    return _b64key(raw, "MINQING_INDEX_KEY")


def current_key_id() -> str:
    return data_keys()[0][0]


def encrypt(plaintext: str) -> str:
    kid, key = data_keys()[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _AAD)
    return f"{PREFIX}{kid}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def decrypt(token: str) -> str:
    if not is_encrypted(token):
        # A value written before encryption was switched on; the migration and
        # rotate_data_key turn these into ciphertext.
        return token
    try:
        _, kid, b64 = token.split("$", 2)
        blob = base64.urlsafe_b64decode(b64)
    except ValueError:
        raise DecryptionError("malformed encrypted value") from None
    key = dict(data_keys()).get(kid)
    if key is None:
        raise DecryptionError(f"unknown key id {kid!r}: is MINQING_DATA_KEYS complete?")
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], _AAD).decode()
    except InvalidTag:
        raise DecryptionError("encrypted value failed authentication") from None


def key_id_of(token: str) -> str | None:
    return token.split("$", 2)[1] if is_encrypted(token) else None


def blind_index(value: str) -> str:
    """A keyed hash for exact lookup; equal inputs give equal outputs, nothing else leaks."""
    return hmac.new(index_key(), value.encode(), hashlib.sha256).hexdigest()

"""AES-256-GCM encryption of provider API keys at rest, with key ids so keys can be rotated.

Keys come from `settings.ENCRYPTION_KEYS`: `"<id>:<base64 of 32 bytes>[,<id2>:<key2>...]"`. The first
key encrypts; every listed key decrypts, chosen by the key id stored next to the ciphertext. A single
bare base64 key (no id) is accepted too and gets the id `default`.

Ciphertext format: base64(nonce (12 random bytes) || ciphertext || GCM tag). The caller passes
associated data (the provider's primary key), so a ciphertext copied to another row fails to decrypt.

Development convenience: with `DEBUG` on and no key configured, a key derived from `SECRET_KEY`
(HKDF-SHA256) under the id `dev` encrypts, and a warning is logged once. With DEBUG on, that dev key
also stays available for decryption when real keys are configured, so `rotate_encryption_keys` can
move dev-encrypted rows onto a real key. Production (DEBUG off) never derives a key.
"""

import base64
import binascii
import functools
import logging
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("everruns.llm.crypto")

NONCE_BYTES = 12
KEY_BYTES = 32
DEV_KEY_ID = "dev"


class EncryptionNotConfigured(Exception):
    """No encryption key is configured, so nothing can be encrypted."""


class DecryptionFailed(Exception):
    """The ciphertext cannot be decrypted: unknown key id, wrong key, tampered data or wrong row."""


@dataclass(frozen=True)
class Keyring:
    """The parsed keys: `encrypt_id` names the key that encrypts (None: encryption unavailable)."""

    keys: dict[str, bytes]
    encrypt_id: str | None


def parse_keys(raw: str) -> dict[str, bytes]:
    """Parse the ENCRYPTION_KEYS format into an ordered {key id: 32-byte key}; bad input -> ImproperlyConfigured."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep:
            key_id, encoded = "default", item
        key_id = key_id.strip()
        if not key_id or len(key_id) > 64:
            raise ImproperlyConfigured("ENCRYPTION_KEYS: every key needs an id of 1..64 characters")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"ENCRYPTION_KEYS: key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"ENCRYPTION_KEYS: key {key_id!r} must be 32 bytes (AES-256)")
        if key_id in keys:
            raise ImproperlyConfigured(f"ENCRYPTION_KEYS: key id {key_id!r} is listed twice")
        keys[key_id] = key
    return keys


def _dev_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"everruns-dev-api-key-encryption").derive(
        secret_key.encode()
    )


@functools.lru_cache(maxsize=8)
def _keyring(raw: str, debug: bool, secret_key: str) -> Keyring:
    keys = parse_keys(raw)
    encrypt_id = next(iter(keys), None)
    if debug and DEV_KEY_ID not in keys:
        keys[DEV_KEY_ID] = _dev_key(secret_key)
        if encrypt_id is None:
            encrypt_id = DEV_KEY_ID
            logger.warning(
                "ENCRYPTION_KEYS is not set: encrypting provider API keys with a development key derived from "
                "SECRET_KEY (DEBUG only). Set ENCRYPTION_KEYS before storing real keys in production."
            )
    return Keyring(keys=keys, encrypt_id=encrypt_id)


def keyring() -> Keyring:
    """The keys for the current settings (parsed once per distinct configuration)."""
    return _keyring(settings.ENCRYPTION_KEYS or "", bool(settings.DEBUG), settings.SECRET_KEY)


def is_configured() -> bool:
    """True when a key is available to encrypt with."""
    return keyring().encrypt_id is not None


def current_key_id() -> str | None:
    return keyring().encrypt_id


def encrypt(plaintext: str, *, aad: bytes) -> tuple[str, str]:
    """Encrypt with the current key; returns (base64 ciphertext, key id). Raises EncryptionNotConfigured."""
    ring = keyring()
    if ring.encrypt_id is None:
        raise EncryptionNotConfigured
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.encrypt_id]).encrypt(nonce, plaintext.encode(), aad)
    return base64.b64encode(nonce + sealed).decode("ascii"), ring.encrypt_id


def decrypt(ciphertext: str, *, key_id: str, aad: bytes) -> str:
    """Decrypt with the key named `key_id`. Raises DecryptionFailed (never with key material in the message)."""
    key = keyring().keys.get(key_id)
    if key is None:
        raise DecryptionFailed(f"encryption key {key_id!r} is not configured")
    try:
        blob = base64.b64decode(ciphertext, validate=True)
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad).decode()
    except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
        raise DecryptionFailed(f"ciphertext does not decrypt with key {key_id!r}") from None

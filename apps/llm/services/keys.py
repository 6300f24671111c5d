"""Provider API keys: encrypted at rest (apps/llm/crypto.py), write-only, with the operator's env fallback."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.core.exceptions import InvalidRequest
from apps.core.services import model_update
from apps.llm import crypto
from apps.llm.clients.base import client_class_or_none
from apps.llm.models import LlmProvider, UserConnection

from .connections import connection_aad, connection_api_key, connection_encrypted_fields

logger = logging.getLogger("everruns.llm")

ENCRYPTION_NOT_CONFIGURED = "Encryption not configured. Cannot store API key."


def _aad(provider: LlmProvider) -> bytes:
    # Binds the ciphertext to this row: copied into another provider it no longer decrypts.
    return b"llm_provider:" + provider.pk.bytes


def encrypted_key_fields(provider: LlmProvider, api_key: str | None) -> dict[str, str | None]:
    """The column values that store `api_key` for this provider (empty/None clears the key).

    Raises InvalidRequest (400 "Encryption not configured…") when a key is given and no encryption key is set.
    """
    if not api_key:
        return {"api_key_encrypted": None, "api_key_key_id": None}
    try:
        ciphertext, key_id = crypto.encrypt(api_key, aad=_aad(provider))
    except crypto.EncryptionNotConfigured:
        raise InvalidRequest(ENCRYPTION_NOT_CONFIGURED) from None
    return {"api_key_encrypted": ciphertext, "api_key_key_id": key_id}


def _env_api_key(provider: LlmProvider) -> str | None:
    """The operator's env key for this provider type, only when the provider talks to the official endpoint.

    The client class names the setting (`env_api_key_setting`) and the official hosts. A custom base_url
    never gets it: otherwise any organization admin could point a provider at their own server and collect
    the operator's key from the Authorization header.
    """
    cls = client_class_or_none(provider.provider_type)
    if cls is None or cls.env_api_key_setting is None:
        return None
    if provider.base_url:
        try:
            parts = urlsplit(provider.base_url)
        except ValueError:
            return None
        # https only: over plain http the key would cross the network readable by anyone on the path.
        if parts.scheme != "https" or parts.hostname not in cls.official_hosts:
            return None
    return getattr(settings, cls.env_api_key_setting, "") or None


def provider_api_key(provider: LlmProvider, *, user_id: Any = None) -> str | None:
    """The API key to call `provider` with: its stored key, else the own connection of `user_id` (the
    session's owner) for the provider's type (see apps.llm.services.connections), else the env fallback
    for its type (official endpoints only, see `_env_api_key`), else None.

    *Choice*: a user's own key comes before the operator's env key: the user set it to be used.

    A stored key that cannot be decrypted (its encryption key was removed from ENCRYPTION_KEYS) is
    logged as an error and gives None: silently using the environment's key instead could bill a
    different account than the one the admin configured.
    """
    if provider.api_key_encrypted and provider.api_key_key_id:
        try:
            return crypto.decrypt(provider.api_key_encrypted, key_id=provider.api_key_key_id, aad=_aad(provider))
        except crypto.DecryptionFailed as exc:
            logger.error("API key of %s cannot be decrypted: %s", provider.public_id, exc)
            return None
    return connection_api_key(user_id=user_id, provider=provider) or _env_api_key(provider)


def provider_api_key_set(provider: LlmProvider) -> bool:
    """`api_key_set` of the API: a key is stored, or an env fallback applies to this provider type."""
    return bool(provider.api_key_encrypted) or _env_api_key(provider) is not None


@transaction.atomic
def llm_provider_set_api_key(*, provider: LlmProvider, api_key: str | None) -> LlmProvider:
    """Encrypt and store (or, with None/"", clear) the provider's key. 400 when no encryption key is configured."""
    model_update(
        instance=provider,
        fields=["api_key_encrypted", "api_key_key_id"],
        data=encrypted_key_fields(provider, api_key),
    )
    return provider


@dataclass
class RotationResult:
    """What `llm_provider_keys_rotate` did: rows re-encrypted, rows already current, rows that failed."""

    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)


def llm_provider_keys_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every stored provider key with the current (first) encryption key.

    Each row is rotated in its own transaction under a row lock, so a partial run is safe to repeat.
    Rows whose key cannot be decrypted are reported in `failed` (public ids) and left unchanged.
    """
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    pending = LlmProvider.objects.filter(api_key_encrypted__isnull=False).exclude(api_key_encrypted="")
    for pk in pending.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            provider = LlmProvider.objects.select_for_update().get(pk=pk)
            if provider.api_key_key_id == target:
                result.current += 1
                continue
            try:
                plaintext = crypto.decrypt(
                    provider.api_key_encrypted or "", key_id=provider.api_key_key_id or "", aad=_aad(provider)
                )
            except crypto.DecryptionFailed as exc:
                logger.error("cannot rotate the API key of %s: %s", provider.public_id, exc)
                result.failed.append(provider.public_id)
                continue
            if not dry_run:
                llm_provider_set_api_key(provider=provider, api_key=plaintext)
            result.rotated += 1
    return result


def connection_keys_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every user connection (apps.llm.services.connections) with the current encryption key;
    same contract as `llm_provider_keys_rotate`."""
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    for pk in UserConnection.objects.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            connection = UserConnection.objects.select_for_update().get(pk=pk)
            if connection.api_key_key_id == target:
                result.current += 1
                continue
            try:
                plaintext = crypto.decrypt(
                    connection.api_key_encrypted, key_id=connection.api_key_key_id, aad=connection_aad(connection)
                )
            except crypto.DecryptionFailed as exc:
                name = f"connection_{connection.pk.hex} ({connection.provider})"
                logger.error("cannot rotate %s: %s", name, exc)
                result.failed.append(name)
                continue
            if not dry_run:
                fields = connection_encrypted_fields(connection, plaintext)
                UserConnection.objects.filter(pk=pk).update(**fields)
            result.rotated += 1
    return result


# Other apps' secrets encrypted with the same key ring (apps.webhooks: signing secrets): name -> rotate(dry_run=...).
_rotators: dict[str, Callable[..., RotationResult]] = {}


def encrypted_secrets_register(name: str, rotate: Callable[..., RotationResult]) -> None:
    """Have `rotate_encryption_keys` re-encrypt another app's secrets too (`rotate(dry_run=bool)`)."""
    _rotators[name] = rotate


def encryption_keys_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt everything the key ring protects: provider keys, users' own connections, then every
    registered app's secrets."""
    total = llm_provider_keys_rotate(dry_run=dry_run)
    for rotate in (connection_keys_rotate, *_rotators.values()):
        part = rotate(dry_run=dry_run)
        total.rotated += part.rotated
        total.current += part.current
        total.failed.extend(part.failed)
    return total

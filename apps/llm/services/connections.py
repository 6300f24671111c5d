"""Users' own provider credentials (`/v1/user/connections`): encrypted at rest with the provider keys' key
ring (apps/llm/crypto.py), rotated by the same command, write-only."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.core.exceptions import InvalidRequest, NotFound
from apps.llm import crypto
from apps.llm.clients.base import PROVIDER_TYPES, client_class_or_none
from apps.llm.models import LlmProvider, UserConnection

logger = logging.getLogger("everruns.llm")

ENCRYPTION_NOT_CONFIGURED = "Encryption not configured. Cannot store API key."


def connection_aad(connection: UserConnection) -> bytes:
    # Binds the ciphertext to this row (and so to its user and provider).
    return b"user_connection:" + connection.pk.bytes


def connection_encrypted_fields(connection: UserConnection, api_key: str) -> dict[str, str]:
    try:
        ciphertext, key_id = crypto.encrypt(api_key, aad=connection_aad(connection))
    except crypto.EncryptionNotConfigured:
        raise InvalidRequest(ENCRYPTION_NOT_CONFIGURED) from None
    return {"api_key_encrypted": ciphertext, "api_key_key_id": key_id}


@transaction.atomic
def connection_set(*, user, provider: str, api_key: str) -> UserConnection:
    """Store (or replace) the user's key for `provider` (a provider type: 400 otherwise)."""
    if provider not in PROVIDER_TYPES:
        raise InvalidRequest(log_detail=f"unknown connection provider {provider!r}"[:200])
    if not api_key or not api_key.strip():
        raise InvalidRequest(log_detail="empty api_key")
    connection = UserConnection.objects.select_for_update().filter(user=user, provider=provider).first()
    if connection is None:
        connection = UserConnection(user=user, provider=provider)
    for field, value in connection_encrypted_fields(connection, api_key).items():
        setattr(connection, field, value)
    connection.save()
    return connection


@transaction.atomic
def connection_remove(*, user, provider: str) -> None:
    """Forget the user's key for `provider`; 404 "Connection not found" when there is none."""
    deleted, _ = UserConnection.objects.filter(user=user, provider=provider).delete()
    if not deleted:
        raise NotFound("Connection not found")


def connection_allowed(provider: LlmProvider) -> bool:
    """Whether a user's own key may be sent to this provider: to its official endpoint only (no base URL, or
    an https official host), unless LLM_CONNECTIONS_ANY_BASE_URL. Otherwise an organization admin could
    point a provider at their own server and collect members' personal keys."""
    if not provider.base_url or getattr(settings, "LLM_CONNECTIONS_ANY_BASE_URL", False):
        return True
    cls = client_class_or_none(provider.provider_type)
    try:
        parts = urlsplit(provider.base_url)
    except ValueError:
        return False
    return cls is not None and parts.scheme == "https" and parts.hostname in cls.official_hosts


def connection_api_key(*, user_id, provider: LlmProvider) -> str | None:
    """The decrypted key of `user_id`'s connection for the provider's type, when one exists and may be used."""
    if user_id is None or not connection_allowed(provider):
        return None
    connection = UserConnection.objects.filter(user_id=user_id, provider=provider.provider_type).first()
    if connection is None:
        return None
    try:
        return crypto.decrypt(
            connection.api_key_encrypted, key_id=connection.api_key_key_id, aad=connection_aad(connection)
        )
    except crypto.DecryptionFailed as exc:
        logger.error("the %s connection of user %s cannot be decrypted: %s", connection.provider, user_id, exc)
        return None

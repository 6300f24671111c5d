"""Session secrets: write-only values a session's tools can read (PUT/GET /v1/sessions/{id}/storage/secrets).

Stored encrypted with the key ring of provider API keys (apps.llm.crypto, `ENCRYPTION_KEYS`): AES-256-GCM,
bound to the session and the secret's name (associated data), so a ciphertext copied to another row or
renamed no longer decrypts. The API lists names and timestamps only; values leave the database only for
the session's tools (`ToolContext.secrets`, filled once per turn by the runtime with `secrets_for_tools`)
and are never logged: log lines name the session and the secret, never the value.
"""

import logging
import re
import uuid

from django.conf import settings
from django.db import transaction

from apps.core.exceptions import InputTooLarge, InvalidRequest
from apps.llm import crypto
from apps.llm.services import RotationResult

from .models import Session, SessionSecret

logger = logging.getLogger("everruns.sessions")

ENCRYPTION_NOT_CONFIGURED = "Encryption not configured. Cannot store secrets."
# Environment-variable-like names: what tools and scripts expect.
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


def _aad(session_id: uuid.UUID | str, name: str) -> bytes:
    session_uuid = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    return b"session_secret:" + session_uuid.bytes + b":" + name.encode()


@transaction.atomic
def session_secrets_set(*, session: Session, secrets: dict[str, str]) -> int:
    """Encrypt and store every `name: value` (an existing name is overwritten); returns how many were stored.

    A name must look like an environment variable (`[A-Za-z_][A-Za-z0-9_.-]*`, up to 128 characters) and a
    value be a string: else 400 "Invalid request". A value over SESSION_SECRET_MAX_BYTES or more than
    SESSION_SECRETS_MAX_COUNT secrets on the session -> 400 "Input exceeds allowed limits". No encryption
    key -> 400 "Encryption not configured…". All or nothing.
    """
    for name, value in secrets.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or not isinstance(value, str):
            raise InvalidRequest(log_detail=f"bad secret name or value type for {str(name)[:64]!r}")
        if len(value.encode()) > settings.SESSION_SECRET_MAX_BYTES:
            raise InputTooLarge(log_detail=f"secret {name!r} too large")
    existing = set(SessionSecret.objects.filter(session=session).values_list("name", flat=True))
    if len(existing | set(secrets)) > settings.SESSION_SECRETS_MAX_COUNT:
        raise InputTooLarge(log_detail="too many secrets on the session")
    rows = []
    for name, value in secrets.items():
        try:
            ciphertext, key_id = crypto.encrypt(value, aad=_aad(session.pk, name))
        except crypto.EncryptionNotConfigured:
            raise InvalidRequest(ENCRYPTION_NOT_CONFIGURED) from None
        rows.append(SessionSecret(session=session, name=name, value_encrypted=ciphertext, key_id=key_id))
    SessionSecret.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["session", "name"],
        update_fields=["value_encrypted", "key_id", "updated_at"],
    )
    logger.info("stored %d secret(s) on session %s", len(rows), session.pk)
    return len(rows)


def session_secret_names(*, session: Session) -> list[SessionSecret]:
    """The session's secrets by name, without their values (the ciphertext column is not even read)."""
    return list(SessionSecret.objects.filter(session=session).only("name", "created_at", "updated_at"))


def secrets_for_tools(session_id: uuid.UUID | str) -> dict[str, str]:
    """`{name: value}` of the session's secrets, decrypted, for its tools (one query).

    A secret that no longer decrypts (its key was removed from ENCRYPTION_KEYS) is left out and logged by
    name; its value is never logged.
    """
    values: dict[str, str] = {}
    rows = SessionSecret.objects.filter(session_id=session_id).values_list("name", "value_encrypted", "key_id")
    for name, ciphertext, key_id in rows:
        try:
            values[name] = crypto.decrypt(ciphertext, key_id=key_id, aad=_aad(session_id, name))
        except crypto.DecryptionFailed as exc:
            logger.error("secret %r of session %s cannot be decrypted: %s", name, session_id, exc)
    return values


def session_secrets_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every session secret with the current (first) key of ENCRYPTION_KEYS (`manage.py
    rotate_encryption_keys` runs it: registered in apps.sessions.apps). Row by row under a row lock, so a
    partial run is safe to repeat; a secret that does not decrypt is reported (`session/name`) and left."""
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    for pk in SessionSecret.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            row = SessionSecret.objects.select_for_update().filter(pk=pk).first()
            if row is None:
                continue
            if row.key_id == target:
                result.current += 1
                continue
            try:
                value = crypto.decrypt(row.value_encrypted, key_id=row.key_id, aad=_aad(row.session_id, row.name))
            except crypto.DecryptionFailed as exc:
                logger.error("cannot rotate secret %r of session %s: %s", row.name, row.session_id, exc)
                result.failed.append(f"session_{row.session_id.hex}/{row.name}")
                continue
            if not dry_run:
                row.value_encrypted, row.key_id = crypto.encrypt(value, aad=_aad(row.session_id, row.name))
                row.save(update_fields=["value_encrypted", "key_id", "updated_at"])
            result.rotated += 1
    return result

"""Idempotency-Key: claim a key, keep the first response, replay it (IETF httpapi idempotency-key draft).

The contract, per (organization, credential, key), for IDEMPOTENCY_TTL_SECS:
- first request: an in-flight record is inserted (the unique constraint decides between racing
  processes), the request runs, and its response is stored;
- a repeat with the same fingerprint (method, path, body) after it finished: the stored response;
- a repeat with another fingerprint: 422;
- a repeat while the first is still in flight: 409, until IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECS have
  passed; then the first request counts as crashed and the repeat takes the key over;
- responses that say the request was not handled (401, 403, 408, 429, 5xx) are not stored: the key
  is released, so the client's retry runs for real.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyRecord

# Headers of the first response that a replay repeats (the rest are per-response: request id, cookies, dates).
REPLAYED_HEADERS = ("Content-Type", "Location", "Content-Location", "ETag", "Last-Modified", "Allow")
NOT_STORED_STATUSES = frozenset({401, 403, 408, 429})


@dataclass(frozen=True)
class Claim:
    """The outcome of `idempotency_claim`: run the request (`record`), replay, or refuse (`conflict`)."""

    record: IdempotencyRecord | None = None
    replay: IdempotencyRecord | None = None
    conflict: int | None = None  # 409 or 422


def fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(*, organization_id: uuid.UUID, credential: str, key: str, fingerprint: str) -> Claim:
    """Claim `key` for a request, or say what to answer instead (see the module docstring)."""
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    organization_id=organization_id,
                    credential=credential,
                    key=key,
                    fingerprint=fingerprint,
                    locked_until=now + timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECS),
                    expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECS),
                )
            return Claim(record=record)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(
            organization_id=organization_id, credential=credential, key=key
        ).first()
        if existing is None:  # released (or pruned) between our insert and this read: try again
            continue
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            return Claim(conflict=422)
        if existing.state == IdempotencyRecord.COMPLETED:
            return Claim(replay=existing)
        if existing.locked_until > now:
            return Claim(conflict=409)
        # The first request crashed (its lock ran out): take the key over, unless another repeat just did.
        new_lock = now + timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECS)
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, state=IdempotencyRecord.IN_FLIGHT, locked_until=existing.locked_until
        ).update(locked_until=new_lock)
        if taken:
            existing.locked_until = new_lock
            return Claim(record=existing)
        return Claim(conflict=409)
    return Claim(conflict=409)


def idempotency_complete(*, record: IdempotencyRecord, status: int, headers: dict[str, str], body: bytes) -> None:
    """Store the first response, or release the key when the response says the request was not handled."""
    if status >= 500 or status in NOT_STORED_STATUSES:
        idempotency_release(record=record)
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.COMPLETED,
        response_status=status,
        response_headers={name: headers[name] for name in REPLAYED_HEADERS if name in headers},
        response_body=body,
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.IN_FLIGHT).delete()


def idempotency_prune() -> int:
    """Delete expired records; returns how many. Run by `manage.py idempotency_prune` (cron) or the task."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted

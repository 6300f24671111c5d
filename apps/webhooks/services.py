"""Webhook subscriptions, their secrets and the delivery of one attempt (docs/automation.md).

Signing: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`)
through the `standardwebhooks` package. Secrets are `whsec_<base64 of 32 random bytes>`, returned once (create,
rotate) and stored encrypted with the provider key ring (apps.llm.crypto). After a rotation the previous secret
signs too, for WEBHOOK_SECRET_ROTATION_GRACE_SECS: each delivery then carries both signatures.
"""

import base64
import json
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx2
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Signer

from apps.core import ids
from apps.core.exceptions import InvalidRequest, Unprocessable
from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked
from apps.llm import crypto
from apps.llm.clients.transport import PolicyTransport
from apps.llm.services import RotationResult
from apps.sessions.models import Session

from .models import Webhook, WebhookDelivery
from .tasks import enqueue_delivery

logger = logging.getLogger("everruns.webhooks")

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Everruns-Webhooks/1"


class WebhookAddressNotAllowed(Unprocessable):
    """The URL's host resolves to a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE_URLS is off)."""

    default_message = "Webhook url points to a private or local network address"


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_valid(secret: str) -> bool:
    """A client-chosen secret must be a Standard Webhooks secret of 24 to 64 bytes (`whsec_<base64>`)."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return False
    return 24 <= len(raw) <= 64


def webhook_url_check(url: str) -> None:
    """http(s) only; the host must resolve to public addresses unless WEBHOOK_ALLOW_PRIVATE_URLS (same policy as
    provider base URLs, apps/core/netpolicy.py). Delivery checks again at connect time (DNS rebinding)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidRequest("Invalid webhook url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise InvalidRequest("Invalid webhook url")
    try:
        resolve_checked(parts.hostname, port, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    except HostUnresolvable:
        raise InvalidRequest("Webhook url host does not resolve") from None
    except AddressNotAllowed:
        raise WebhookAddressNotAllowed() from None


def _aad(webhook: Webhook) -> bytes:
    return f"webhook:{webhook.pk}".encode()


def _encrypt(webhook: Webhook, secret: str) -> tuple[str, str]:
    try:
        return crypto.encrypt(secret, aad=_aad(webhook))
    except crypto.EncryptionNotConfigured:
        raise InvalidRequest(
            "Encryption is not configured (ENCRYPTION_KEYS): webhook secrets cannot be stored"
        ) from None


def webhook_secrets(webhook: Webhook, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    result = [crypto.decrypt(webhook.secret_ciphertext, key_id=webhook.secret_key_id, aad=_aad(webhook))]
    if (
        webhook.previous_secret_ciphertext
        and webhook.previous_secret_key_id
        and webhook.previous_secret_expires_at
        and webhook.previous_secret_expires_at > now
    ):
        result.append(
            crypto.decrypt(webhook.previous_secret_ciphertext, key_id=webhook.previous_secret_key_id, aad=_aad(webhook))
        )
    return result


@transaction.atomic
def webhook_create(
    *,
    organization,
    url: str,
    event_types: list[str],
    enabled: bool = True,
    secret: str | None = None,
    session: Session | None = None,
) -> tuple[Webhook, str]:
    """Create a subscription; returns it and its signing secret (the only time the secret is shown)."""
    webhook_url_check(url)
    secret = secret or secret_new()
    webhook = Webhook(organization=organization, session=session, url=url, event_types=event_types, enabled=enabled)
    webhook.secret_ciphertext, webhook.secret_key_id = _encrypt(webhook, secret)
    webhook.full_clean()
    webhook.save()
    return webhook, secret


@transaction.atomic
def webhook_update(
    *,
    webhook: Webhook,
    url: str | None = None,
    enabled: bool | None = None,
    event_types: list[str] | None = None,
    secret: str | None = None,
) -> Webhook:
    """Change url / enabled / event types / secret. Enabling a webhook clears its failure count and reason."""
    if url is not None:
        webhook_url_check(url)
        webhook.url = url
    if event_types is not None:
        webhook.event_types = event_types
    if enabled is not None:
        if enabled and not webhook.enabled:
            webhook.consecutive_failures, webhook.disabled_reason = 0, None
        webhook.enabled = enabled
    if secret is not None:
        webhook.secret_ciphertext, webhook.secret_key_id = _encrypt(webhook, secret)
        webhook.previous_secret_ciphertext = webhook.previous_secret_key_id = webhook.previous_secret_expires_at = None
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def webhook_secret_rotate(*, webhook: Webhook) -> tuple[Webhook, str]:
    """A new secret; the old one keeps signing (as a second signature) for WEBHOOK_SECRET_ROTATION_GRACE_SECS."""
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    secret = secret_new()
    webhook.previous_secret_ciphertext, webhook.previous_secret_key_id = (
        webhook.secret_ciphertext,
        webhook.secret_key_id,
    )
    webhook.previous_secret_expires_at = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_ROTATION_GRACE_SECS)
    webhook.secret_ciphertext, webhook.secret_key_id = _encrypt(webhook, secret)
    webhook.save()
    return webhook, secret


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (same `webhook-id`, so receivers can tell it is the same message). 422 when the
    webhook is disabled."""
    if not Webhook.objects.filter(pk=delivery.webhook_id, enabled=True).exists():
        raise Unprocessable("Webhook is disabled; enable it before redelivering")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.PENDING, next_attempt_at=now, attempt_count=0, updated_at=now
    )
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def retry_delays() -> list[int]:
    return [int(value) for value in settings.WEBHOOK_RETRY_DELAYS_SECS]


def _claim(delivery_id: uuid.UUID, now: datetime) -> WebhookDelivery | None:
    """Take a due delivery for one attempt: its next_attempt_at moves past the attempt's timeout (a lease), so a
    second worker (or a duplicate task) skips it, and a worker that dies mid-attempt only delays it."""
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECS + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)


def _send(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str | None]:
    """POST the signed payload; (status code or None, error text or None)."""
    webhook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    message_id = ids.format_id("msg", delivery.pk)
    signatures = " ".join(Signer(secret).sign(message_id, now, body) for secret in webhook_secrets(webhook, now=now))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    transport = None if settings.WEBHOOK_ALLOW_PRIVATE_URLS else PolicyTransport()
    try:
        with httpx2.Client(transport=transport, timeout=settings.WEBHOOK_TIMEOUT_SECS, follow_redirects=False) as c:
            response = c.post(webhook.url, content=body.encode(), headers=headers)
    except httpx2.HTTPError as exc:
        return None, (str(exc) or type(exc).__name__)[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def delivery_attempt(*, delivery_id: uuid.UUID, now: datetime | None = None) -> WebhookDelivery | None:
    """Make one attempt of a due, pending delivery and record it; None when it is not due or another worker has it.

    Success (2xx) settles it and resets the webhook's failure count. A failure (another status, a timeout, a refused
    address) schedules the next attempt after WEBHOOK_RETRY_DELAYS_SECS[attempt - 1], or marks it failed once the
    schedule is used up; WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row disable the webhook.
    """
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    webhook = delivery.webhook
    if not webhook.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.FAILED, next_attempt_at=None, last_error="webhook disabled"
        )
        delivery.refresh_from_db()
        return delivery
    started = time.monotonic()
    status_code, error = _send(delivery, now)
    latency_ms = int((time.monotonic() - started) * 1000)
    attempt = {"at": now.isoformat(), "status_code": status_code, "latency_ms": latency_ms, "error": error}
    delivery.attempt_count += 1
    delivery.attempts = [*delivery.attempts, attempt]
    delivery.last_status_code, delivery.last_latency_ms, delivery.last_error = status_code, latency_ms, error
    with transaction.atomic():
        if error is None:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.SUCCEEDED, now, None
            Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
        else:
            delays = retry_delays()
            if delivery.attempt_count <= len(delays):
                delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempt_count - 1])
            else:
                delivery.status, delivery.next_attempt_at = WebhookDelivery.FAILED, None
            if _count_failure(webhook):
                delivery.status, delivery.next_attempt_at = WebhookDelivery.FAILED, None
        delivery.save()
    logger.info("webhook delivery %s attempt %d: %s", delivery.pk, delivery.attempt_count, error or status_code)
    return delivery


def _count_failure(webhook: Webhook) -> bool:
    """Count a failed attempt; True when it disabled the webhook (its other pending deliveries fail with it)."""
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    disabled = Webhook.objects.filter(pk=webhook.pk, enabled=True, consecutive_failures__gte=limit).update(
        enabled=False, disabled_reason=f"disabled after {limit} failed deliveries in a row"
    )
    if disabled:
        logger.warning("webhook %s disabled after %d failed attempts in a row", webhook.pk, limit)
        WebhookDelivery.objects.filter(webhook_id=webhook.pk, status=WebhookDelivery.PENDING).update(
            status=WebhookDelivery.FAILED, next_attempt_at=None, last_error="webhook disabled"
        )
    return bool(disabled)


def deliveries_run_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Attempt every pending delivery that is due (the periodic sweep: queued tasks that were lost, and tests with
    an injected clock); returns how many attempts were made."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if delivery_attempt(delivery_id=pk, now=now) is not None)


def deliveries_requeue_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue a task again for pending deliveries overdue by more than WEBHOOK_SWEEP_GRACE_SECS: their task was lost
    (a process died between commit and enqueue, or the task row was dropped). A duplicate task is harmless: an
    attempt first claims the delivery (`_claim`). Runs from the worker loop (apps.core.periodic)."""
    now = now or timezone.now()
    overdue = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECS),
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in overdue:
        enqueue_delivery(pk)
    return len(overdue)


def webhook_secrets_reencrypt(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every webhook secret (and a previous one in its grace period) with the current encryption key:
    `manage.py rotate_encryption_keys` runs it (registered in apps.webhooks.apps)."""
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    for pk in Webhook.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            webhook = Webhook.objects.select_for_update().get(pk=pk)
            stale = webhook.secret_key_id != target or (
                webhook.previous_secret_ciphertext is not None and webhook.previous_secret_key_id != target
            )
            if not stale:
                result.current += 1
                continue
            try:
                current = crypto.decrypt(webhook.secret_ciphertext, key_id=webhook.secret_key_id, aad=_aad(webhook))
                previous = (
                    crypto.decrypt(
                        webhook.previous_secret_ciphertext,
                        key_id=webhook.previous_secret_key_id or "",
                        aad=_aad(webhook),
                    )
                    if webhook.previous_secret_ciphertext
                    else None
                )
            except crypto.DecryptionFailed as exc:
                logger.error("cannot re-encrypt the secret of webhook %s: %s", webhook.pk, exc)
                result.failed.append(ids.format_id("wh", webhook.pk))
                continue
            if not dry_run:
                webhook.secret_ciphertext, webhook.secret_key_id = crypto.encrypt(current, aad=_aad(webhook))
                if previous is not None:
                    webhook.previous_secret_ciphertext, webhook.previous_secret_key_id = crypto.encrypt(
                        previous, aad=_aad(webhook)
                    )
                webhook.save(
                    update_fields=[
                        "secret_ciphertext",
                        "secret_key_id",
                        "previous_secret_ciphertext",
                        "previous_secret_key_id",
                    ]
                )
            result.rotated += 1
    return result

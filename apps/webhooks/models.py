"""Webhook subscriptions and their delivery log (docs/automation.md)."""

from django.db import models

from apps.core.models import PublicModel


class Webhook(PublicModel):
    """A URL that receives signed POSTs for chosen events of an organization, or of one session."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    # None: every session of the organization; else only this session's events (the per-session task webhook).
    session = models.ForeignKey(
        "agent_sessions.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=2048)
    event_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # The `whsec_…` signing secret, AES-GCM encrypted with the provider key ring (apps.llm.crypto), row id as AAD.
    secret_ciphertext = models.TextField()
    secret_key_id = models.CharField(max_length=64)
    # After a rotation the old secret also signs until `previous_secret_expires_at` (receivers switch over).
    previous_secret_ciphertext = models.TextField(null=True, blank=True)
    previous_secret_key_id = models.CharField(max_length=64, null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "enabled"], name="webhook_org_enabled")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(PublicModel):
    """One event sent (or to be sent) to one webhook: its payload, attempts and outcome. Its id is `webhook-id`."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STATUSES = [(s, s) for s in (PENDING, SUCCEEDED, FAILED)]

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # While pending: when the next attempt is due (a running attempt pushes it ahead as its lease).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Every attempt: [{"at", "status_code", "latency_ms", "error"}], oldest first (bounded by the retry schedule).
    attempts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.webhook_id} ({self.status})"

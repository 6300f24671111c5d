"""Stored first responses of requests that carried an `Idempotency-Key` header (docs/automation.md)."""

from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one credential in one organization: in flight, or its first response."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"
    STATES = [(IN_FLIGHT, "in flight"), (COMPLETED, "completed")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    # Who sent it: "apikey:<id>" or "user:<id>" (a refreshed JWT of the same user is the same credential).
    credential = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is 422.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=STATES, default=IN_FLIGHT)
    # While in flight: after this instant the first request counts as crashed and a repeat takes over.
    locked_until = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "credential", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.credential} {self.key} ({self.state})"

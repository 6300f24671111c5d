"""Agents (contract 3.1)."""

from django.db import models

from apps.core.ids import uuid7
from apps.core.models import TimeStampedModel
from apps.core.usage import UsageFields


class Agent(TimeStampedModel, UsageFields):
    """A reusable configuration: system prompt, default model and capabilities.

    `public_id` is what the API shows as `agent_…`. It is separate from the primary key and unique
    per organization because clients may choose it (PUT upsert): one organization choosing an id
    must never collide with, or reveal, another organization's agent.
    """

    STATUS_ACTIVE = "active"
    STATUS_ARCHIVED = "archived"
    STATUSES = [(STATUS_ACTIVE, "active"), (STATUS_ARCHIVED, "archived")]

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    public_id = models.UUIDField(default=uuid7)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="agents")
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    system_prompt = models.TextField()
    default_model = models.ForeignKey(
        "llm.LlmModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.JSONField(default=list, blank=True)
    # Ordered [{"ref": "<capability id>", "config": {...}}, …]
    capabilities = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=STATUSES, default=STATUS_ACTIVE, db_index=True)
    # The base layer of its configuration (apps.harnesses.resolve); set to the organization's `generic`
    # harness on save when not given. SET_NULL only matters for rows deleted outside the API.
    harness = models.ForeignKey(
        "harnesses.Harness", null=True, blank=True, on_delete=models.SET_NULL, related_name="agents"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="uniq_agent_public_id_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="agent_org_created")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.harness_id is None and self.organization_id is not None:
            from apps.harnesses.services import generic_harness

            self.harness = generic_harness(self.organization_id)
        super().save(*args, **kwargs)

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

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="uniq_agent_public_id_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="agent_org_created")]

    def __str__(self) -> str:
        return self.name

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
    display_name = models.TextField(null=True, blank=True)
    # Client-side tool definitions [{type: "client_side", name, description, parameters}, …]
    tools = models.JSONField(default=list, blank=True)
    # The layered settings beyond prompt/model/capabilities (apps.harnesses.resolve); None = inherit.
    initial_files = models.JSONField(default=list, blank=True)
    max_iterations = models.PositiveIntegerField(null=True, blank=True)
    parallel_tool_calls = models.BooleanField(null=True, blank=True)
    network_access = models.JSONField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Lineage of an agent forked from a version (public ids of the source agent / version, root of the family).
    forked_from_agent_id = models.UUIDField(null=True, blank=True)
    forked_from_version_id = models.UUIDField(null=True, blank=True)
    root_agent_id = models.UUIDField(null=True, blank=True)
    # The version new sessions run on when set (POST /v1/agents/{id}/versions/default); else the latest one.
    default_version = models.ForeignKey(
        "agents.AgentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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


class AgentVersion(TimeStampedModel):
    """An immutable snapshot of an agent's configuration (apps.agents.versioning, docs/agents.md "Versions").

    `authored_config` is the agent's own settings as stored; `resolved_config` what they resolve to on its
    harness (apps.harnesses.resolve); `config_hash` the hash of the resolved config, so a write that changes
    nothing a turn would see records no new version. Only `is_published` (and its summary) ever changes.
    """

    CHANGE_KINDS = [(k, k) for k in ("auto", "manual", "patch", "minor", "major", "import", "rollback", "fork")]

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    version_number = models.PositiveIntegerField()
    semver_major = models.PositiveIntegerField(default=1)
    semver_minor = models.PositiveIntegerField(default=0)
    semver_patch = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=False)
    change_kind = models.CharField(max_length=16, choices=CHANGE_KINDS, default="auto")
    config_hash = models.CharField(max_length=80)
    authored_config = models.JSONField(default=dict)
    resolved_config = models.JSONField(default=dict)
    parent_version = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_version = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["-version_number"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "version_number"], name="uniq_agent_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} v{self.version}"

    @property
    def version(self) -> str:
        return f"{self.semver_major}.{self.semver_minor}.{self.semver_patch}"

"""Harnesses: the base layer of an agent's configuration (docs/agents.md, "Harnesses")."""

from django.db import models

from apps.core.models import PublicModel


class ConfigLayerFields(models.Model):
    """The settings that layer harness → agent → session (apps.harnesses.resolve). Empty/None = not set here."""

    system_prompt = models.TextField(null=True, blank=True)
    default_model = models.ForeignKey(
        "llm.LlmModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Ordered [{"ref": "<capability id>", "config": {...}}, …]
    capabilities = models.JSONField(default=list, blank=True)
    # [{"path", "content", "encoding"?, "is_readonly"?}, …]
    initial_files = models.JSONField(default=list, blank=True)
    max_iterations = models.PositiveIntegerField(null=True, blank=True)
    parallel_tool_calls = models.BooleanField(null=True, blank=True)
    # {"allowed": [...], "blocked": [...]} or None
    network_access = models.JSONField(null=True, blank=True)

    class Meta:
        abstract = True


class Harness(PublicModel, ConfigLayerFields):
    """An organization's base configuration for agents and sessions; may inherit from a parent harness.

    Every organization has one built-in, read-only harness named `generic` (`is_built_in`), the default
    harness of its agents. `name` is an addressable slug, unique per organization.
    """

    STATUS_ACTIVE = "active"
    STATUS_ARCHIVED = "archived"
    STATUSES = [(STATUS_ACTIVE, "active"), (STATUS_ARCHIVED, "archived")]
    GENERIC = "generic"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="harnesses")
    name = models.CharField(max_length=64)
    display_name = models.TextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    is_built_in = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=STATUSES, default=STATUS_ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_harness_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.name

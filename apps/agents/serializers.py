"""Agent request/response shapes (contract 2.3, 3.1). Domain validation lives in services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.capabilities.serializers import ToolDefinitionSerializer
from apps.core.fields import PublicIdField, StrictCharField, TimestampField
from apps.mcp.serializers import MCP_SERVERS_SCHEMA, McpServersField
from apps.mcp.services import attachments_map as mcp_attachments_map

from .models import Agent

CAPABILITY_REF_SCHEMA = {
    "oneOf": [
        {"type": "string", "description": "Capability id (shorthand for {ref: id})", "example": "current_time"},
        {
            "type": "object",
            "properties": {"ref": {"type": "string"}, "config": {"type": "object", "additionalProperties": True}},
            "required": ["ref"],
        },
    ]
}
CAPABILITY_CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "ref": {"type": "string", "example": "current_time"},
        "config": {"type": "object", "additionalProperties": True},
    },
    "required": ["ref", "config"],
}
USAGE_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "Cumulative token usage across the agent's sessions; null before the first turn.",
    "properties": {key: {"type": "integer"} for key in Agent.USAGE_KEYS},
}


@extend_schema_field(CAPABILITY_REF_SCHEMA)
class CapabilityRefField(serializers.JSONField):
    """A capability id string or {ref, config}; checked against the registry by the service."""


def _text(**kwargs) -> StrictCharField:
    # Stored exactly as sent: limits are byte lengths of what the client sent (contract 3.1).
    return StrictCharField(trim_whitespace=False, **kwargs)


class AgentSerializer(serializers.ModelSerializer):
    """Agent (contract 3.1)."""

    id = PublicIdField("agent", source="public_id", read_only=True)
    default_model_id = PublicIdField("model", read_only=True, allow_null=True)
    capabilities = serializers.SerializerMethodField()
    mcpServers = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "description",
            "system_prompt",
            "default_model_id",
            "tags",
            "capabilities",
            "mcpServers",
            "status",
            "usage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": CAPABILITY_CONFIG_SCHEMA})
    def get_capabilities(self, agent: Agent) -> list[dict]:
        # Always the object form, whatever older rows hold (contract 3.1 rec).
        refs: list[dict] = []
        for item in agent.capabilities or []:
            if isinstance(item, str):
                refs.append({"ref": item, "config": {}})
            elif isinstance(item, dict):
                refs.append({"ref": item.get("ref"), "config": item.get("config") or {}})
        return refs

    @extend_schema_field(MCP_SERVERS_SCHEMA)
    def get_mcpServers(self, agent: Agent) -> dict:
        # A list view passes every row's map in the context (one query per page): see AgentViewSet.
        prefetched = self.context.get("mcp_servers")
        if prefetched is not None:
            return prefetched.get(agent.pk, {})
        return mcp_attachments_map(owner_kind="agent", owner_ids=[agent.pk])[agent.pk]

    @extend_schema_field(USAGE_SCHEMA)
    def get_usage(self, agent: Agent) -> dict | None:
        return agent.usage


class AgentCreateSerializer(serializers.Serializer):
    """CreateAgentRequest: POST /v1/agents and PUT /v1/agents/{id} (PUT ignores `id`)."""

    id = PublicIdField(
        "agent",
        required=False,
        allow_null=True,
        help_text="Client-chosen id; an existing one in your organization makes this an update.",
    )
    name = _text(help_text="Non-empty; at most 2048 UTF-8 bytes.")
    system_prompt = _text(help_text="At most 1 MiB of UTF-8.")
    description = _text(required=False, allow_null=True, allow_blank=True, help_text="At most 10 KiB of UTF-8.")
    default_model_id = PublicIdField(
        "model", required=False, allow_null=True, help_text="null or absent: the system default model."
    )
    tags = serializers.ListField(child=_text(allow_blank=True), required=False)
    capabilities = serializers.ListField(
        child=CapabilityRefField(), required=False, help_text="Ordered; at most 250 items."
    )
    mcpServers = McpServersField(required=False, allow_null=True)


class AgentUpdateSerializer(serializers.Serializer):
    """UpdateAgentRequest (PATCH): every field optional; `tags`/`capabilities` replace the whole list."""

    name = _text(required=False)
    system_prompt = _text(required=False)
    description = _text(required=False, allow_null=True, allow_blank=True)
    default_model_id = PublicIdField(
        "model", required=False, allow_null=True, help_text="Explicit null clears the override."
    )
    tags = serializers.ListField(child=_text(allow_blank=True), required=False)
    capabilities = serializers.ListField(child=CapabilityRefField(), required=False)
    mcpServers = McpServersField(required=False, allow_null=True, help_text="Replaces the whole map.")
    status = serializers.ChoiceField(
        choices=["active", "archived"], required=False, help_text="`active` restores an archived agent."
    )


class AgentPreviewSerializer(serializers.Serializer):
    """POST /v1/agents/preview request: a prompt and capabilities to combine, nothing is stored."""

    system_prompt = _text(allow_blank=True)
    capabilities = serializers.ListField(child=CapabilityRefField(), required=False)


class AgentPreviewResultSerializer(serializers.Serializer):
    """The effective system prompt (capability additions first) and the tools the model would get."""

    system_prompt = StrictCharField()
    tools = ToolDefinitionSerializer(many=True)

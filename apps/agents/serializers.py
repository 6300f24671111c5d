"""Agent request/response shapes (contract 2.3, 3.1). Domain validation lives in services."""

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from apps.capabilities.serializers import ToolDefinitionSerializer
from apps.core import ids
from apps.core.fields import (
    PublicIdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TimestampField,
    format_ts,
)
from apps.harnesses.serializers import InitialFilesField, NetworkAccessField

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
TOOL_DEFINITION_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "parameters"],
    "properties": {
        "type": {"type": "string", "enum": ["client_side"]},
        "name": {"type": "string", "example": "open_url"},
        "description": {"type": "string"},
        "parameters": {"type": "object", "additionalProperties": True, "description": "JSON Schema"},
    },
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


def _capability_objects(items: list | None) -> list[dict]:
    # Always the object form, whatever older rows hold (contract 3.1 rec).
    refs: list[dict] = []
    for item in items or []:
        if isinstance(item, str):
            refs.append({"ref": item, "config": {}})
        elif isinstance(item, dict):
            refs.append({"ref": item.get("ref"), "config": item.get("config") or {}})
    return refs


def agent_to_dict(agent: Agent) -> dict:
    """The Agent resource (spec Agent); no query (foreign keys are read as ids)."""
    return {
        "id": ids.format_id("agent", agent.public_id),
        "name": agent.name,
        "display_name": agent.display_name,
        "description": agent.description,
        "system_prompt": agent.system_prompt,
        "default_model_id": ids.format_id("model", agent.default_model_id),
        "harness_id": ids.format_id("harness", agent.harness_id),
        "tags": agent.tags,
        "capabilities": _capability_objects(agent.capabilities),
        "tools": agent.tools or [],
        "initial_files": agent.initial_files or [],
        "max_iterations": agent.max_iterations,
        "parallel_tool_calls": agent.parallel_tool_calls,
        "network_access": agent.network_access,
        "status": agent.status,
        "usage": agent.usage,
        "default_version_id": ids.format_id("agentver", agent.default_version_id),
        "forked_from_agent_id": ids.format_id("agent", agent.forked_from_agent_id),
        "forked_from_version_id": ids.format_id("agentver", agent.forked_from_version_id),
        "root_agent_id": ids.format_id("agent", agent.root_agent_id),
        "archived_at": format_ts(agent.archived_at),
        "deleted_at": None,
        "created_at": format_ts(agent.created_at),
        "updated_at": format_ts(agent.updated_at),
    }


@extend_schema_field({"type": "array", "items": TOOL_DEFINITION_SCHEMA})
class ToolsField(serializers.JSONField):
    """Client-side tool definitions; checked by the service (apps.harnesses.validation.clean_tools)."""


class AgentSerializer(serializers.Serializer):
    """Agent (spec; SDK 0.3.1). Rendered by agent_to_dict; the fields document the shape."""

    id = PublicIdField("agent")
    name = StrictCharField()
    display_name = StrictCharField(allow_null=True, help_text="Shown in UIs; falls back to `name`.")
    description = StrictCharField(allow_null=True)
    system_prompt = StrictCharField()
    default_model_id = PublicIdField("model", allow_null=True)
    harness_id = PublicIdField("harness", help_text="Base layer of the configuration; default `generic`.")
    tags = serializers.ListField(child=StrictCharField())
    capabilities = serializers.SerializerMethodField()
    tools = ToolsField()
    initial_files = InitialFilesField()
    max_iterations = StrictIntegerField(allow_null=True)
    parallel_tool_calls = StrictBooleanField(allow_null=True)
    network_access = NetworkAccessField(allow_null=True)
    status = StrictCharField(help_text="active | archived")
    usage = serializers.SerializerMethodField()
    default_version_id = PublicIdField("agentver", allow_null=True)
    forked_from_agent_id = PublicIdField("agent", allow_null=True)
    forked_from_version_id = PublicIdField("agentver", allow_null=True)
    root_agent_id = PublicIdField("agent", allow_null=True)
    archived_at = TimestampField(allow_null=True)
    deleted_at = TimestampField(allow_null=True, help_text="Always null: agents are archived, never deleted.")
    created_at = TimestampField()
    updated_at = TimestampField()

    @extend_schema_field({"type": "array", "items": CAPABILITY_CONFIG_SCHEMA})
    def get_capabilities(self, agent: Agent) -> list[dict]:
        return _capability_objects(agent.capabilities)

    @extend_schema_field(USAGE_SCHEMA)
    def get_usage(self, agent: Agent) -> dict | None:
        return agent.usage

    def to_representation(self, instance: Agent) -> dict:
        return agent_to_dict(instance)


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
    harness_id = PublicIdField("harness", required=False, allow_null=True, help_text="Default: `generic`.")
    display_name = _text(required=False, allow_null=True, allow_blank=True)
    tools = ToolsField(required=False, allow_null=True)
    initial_files = InitialFilesField(required=False, allow_null=True)
    max_iterations = serializers.JSONField(required=False, allow_null=True, help_text="1..1000; null: inherit.")
    parallel_tool_calls = serializers.JSONField(required=False, allow_null=True, help_text="true | false | null")
    network_access = NetworkAccessField(required=False, allow_null=True)
    harness_name = _text(required=False, allow_null=True, help_text="A harness by name instead of by id.")


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
    harness_id = PublicIdField("harness", required=False, allow_null=True, help_text="null: back to `generic`.")
    display_name = _text(required=False, allow_null=True, allow_blank=True)
    tools = ToolsField(required=False, allow_null=True)
    initial_files = InitialFilesField(required=False, allow_null=True)
    max_iterations = serializers.JSONField(required=False, allow_null=True, help_text="1..1000; null: inherit.")
    parallel_tool_calls = serializers.JSONField(required=False, allow_null=True, help_text="true | false | null")
    network_access = NetworkAccessField(required=False, allow_null=True)
    harness_name = _text(required=False, allow_null=True)
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


def version_to_dict(version) -> dict:
    """AgentVersion (spec). `agent_id` is the owning agent's public id (needs `agent` loaded or cached)."""
    return {
        "id": ids.format_id("agentver", version.pk),
        "agent_id": ids.format_id("agent", version.agent.public_id),
        "version_number": version.version_number,
        "version": version.version,
        "semver_major": version.semver_major,
        "semver_minor": version.semver_minor,
        "semver_patch": version.semver_patch,
        "is_published": version.is_published,
        "change_kind": version.change_kind,
        "config_hash": version.config_hash,
        "authored_config": version.authored_config,
        "resolved_config": version.resolved_config,
        "parent_version_id": ids.format_id("agentver", version.parent_version_id),
        "source_version_id": ids.format_id("agentver", version.source_version_id),
        "summary": version.summary,
        "created_by_principal_id": None,
        "created_at": format_ts(version.created_at),
    }


class AgentVersionSerializer(serializers.Serializer):
    """AgentVersion (spec): an immutable snapshot; rendered by version_to_dict."""

    id = PublicIdField("agentver")
    agent_id = PublicIdField("agent")
    version_number = StrictIntegerField()
    version = StrictCharField(help_text="major.minor.patch")
    semver_major = StrictIntegerField()
    semver_minor = StrictIntegerField()
    semver_patch = StrictIntegerField()
    is_published = StrictBooleanField()
    change_kind = StrictCharField(help_text="auto | manual | patch | minor | major | import | rollback | fork")
    config_hash = StrictCharField()
    authored_config = serializers.DictField()
    resolved_config = serializers.DictField()
    parent_version_id = PublicIdField("agentver", allow_null=True)
    source_version_id = PublicIdField("agentver", allow_null=True)
    summary = StrictCharField(allow_null=True)
    created_by_principal_id = StrictCharField(allow_null=True)
    created_at = TimestampField()

    def to_representation(self, instance) -> dict:
        return version_to_dict(instance)


class VersionDiffSerializer(serializers.Serializer):
    from_version_id = PublicIdField("agentver")
    to_version_id = PublicIdField("agentver")
    authored_diff = serializers.DictField(help_text='{field: {"from": old, "to": new}} for every changed field')
    resolved_diff = serializers.DictField()


class CreateVersionSerializer(serializers.Serializer):
    change_kind = StrictCharField(required=False, allow_null=True, help_text="manual (default) | patch | minor | major")
    summary = StrictCharField(required=False, allow_null=True)


class SetDefaultVersionSerializer(serializers.Serializer):
    version_id = StrictCharField()


class ForkVersionSerializer(serializers.Serializer):
    name = StrictCharField()
    display_name = StrictCharField(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_null=True)


class RollbackVersionSerializer(serializers.Serializer):
    save_version = StrictBooleanField(required=False, allow_null=True)
    summary = StrictCharField(required=False, allow_null=True)


class AnalyzeSerializer(serializers.Serializer):
    system_prompt = StrictCharField(allow_blank=True, trim_whitespace=False)
    capabilities = serializers.ListField(child=CapabilityRefField(), required=False)
    tools = serializers.ListField(child=serializers.JSONField(), required=False)


FINDING = inline_serializer(
    "Finding",
    fields={
        "rule_id": StrictCharField(),
        "severity": StrictCharField(help_text="error | warning | info"),
        "category": StrictCharField(),
        "source": StrictCharField(help_text="builtin"),  # a field name a Serializer class cannot declare
        "message": StrictCharField(),
        "fix": StrictCharField(allow_null=True),
        "location": serializers.DictField(help_text="{field, start?, end?}"),
    },
    many=True,
)


class AnalysisSerializer(serializers.Serializer):
    findings = FINDING


class CheckNameSerializer(serializers.Serializer):
    available = StrictBooleanField()

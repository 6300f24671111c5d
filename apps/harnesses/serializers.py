"""Harness shapes (spec: Harness, CreateHarnessRequest, UpdateHarnessRequest, HarnessExample)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core import ids
from apps.core.fields import PublicIdField, StrictBooleanField, StrictCharField, StrictIntegerField, format_ts

from .models import Harness

CAPABILITY_CONFIG_SCHEMA = {
    "type": "object",
    "properties": {"ref": {"type": "string"}, "config": {"type": "object", "additionalProperties": True}},
    "required": ["ref"],
}
INITIAL_FILE_SCHEMA = {
    "type": "object",
    "required": ["path", "content"],
    "properties": {
        "path": {"type": "string", "example": "/workspace/README.md"},
        "content": {"type": "string"},
        "encoding": {"type": "string", "enum": ["text", "base64"]},
        "is_readonly": {"type": "boolean"},
    },
}
NETWORK_ACCESS_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {
        "allowed": {"type": "array", "items": {"type": "string"}},
        "blocked": {"type": "array", "items": {"type": "string"}},
    },
}


@extend_schema_field({"type": "array", "items": CAPABILITY_CONFIG_SCHEMA})
class CapabilitiesField(serializers.JSONField):
    """Capability ids or {ref, config}; checked against the registry by the service (400 shape, 422 unknown)."""


@extend_schema_field({"type": "array", "items": INITIAL_FILE_SCHEMA})
class InitialFilesField(serializers.JSONField):
    """Starter files copied into each new session."""


@extend_schema_field(NETWORK_ACCESS_SCHEMA)
class NetworkAccessField(serializers.JSONField):
    """Hosts a session may (allowed) or may not (blocked) reach, on top of the server's own policy."""


def harness_to_dict(harness: Harness) -> dict:
    """The Harness resource; no query (ids are read from the foreign-key columns)."""
    return {
        "id": ids.format_id("harness", harness.pk),
        "name": harness.name,
        "display_name": harness.display_name,
        "description": harness.description,
        "system_prompt": harness.system_prompt,
        "default_model_id": ids.format_id("model", harness.default_model_id),
        "capabilities": [{"ref": c["ref"], "config": c.get("config") or {}} for c in harness.capabilities or []],
        "initial_files": harness.initial_files or [],
        "max_iterations": harness.max_iterations,
        "parallel_tool_calls": harness.parallel_tool_calls,
        "network_access": harness.network_access,
        "parent_harness_id": ids.format_id("harness", harness.parent_id),
        "tags": harness.tags or [],
        "is_built_in": harness.is_built_in,
        "status": harness.status,
        "archived_at": format_ts(harness.archived_at),
        "deleted_at": None,
        "created_at": format_ts(harness.created_at),
        "updated_at": format_ts(harness.updated_at),
    }


class HarnessSerializer(serializers.Serializer):
    """Harness (spec). Rendered by harness_to_dict; the fields document the shape."""

    id = PublicIdField("harness")
    name = StrictCharField(help_text="Addressable name, unique per organization: [a-z0-9]+(-[a-z0-9]+)*")
    display_name = StrictCharField(allow_null=True)
    description = StrictCharField(allow_null=True)
    system_prompt = StrictCharField(allow_null=True)
    default_model_id = PublicIdField("model", allow_null=True)
    capabilities = CapabilitiesField()
    initial_files = InitialFilesField()
    max_iterations = StrictIntegerField(allow_null=True)
    parallel_tool_calls = StrictBooleanField(allow_null=True)
    network_access = NetworkAccessField(allow_null=True)
    parent_harness_id = PublicIdField("harness", allow_null=True)
    tags = serializers.ListField(child=StrictCharField())
    is_built_in = StrictBooleanField(help_text="The built-in `generic` harness: read-only.")
    status = StrictCharField(help_text="active | archived")
    archived_at = StrictCharField(allow_null=True)
    deleted_at = StrictCharField(allow_null=True, help_text="Always null: harnesses are archived, never deleted.")
    created_at = StrictCharField()
    updated_at = StrictCharField()

    def to_representation(self, instance: Harness) -> dict:
        return harness_to_dict(instance)


class HarnessWriteSerializer(serializers.Serializer):
    """CreateHarnessRequest / UpdateHarnessRequest: values are checked by the service (400/404/409/422)."""

    name = serializers.JSONField(required=False, allow_null=True)
    display_name = serializers.JSONField(required=False, allow_null=True)
    description = serializers.JSONField(required=False, allow_null=True)
    system_prompt = serializers.JSONField(required=False, allow_null=True)
    default_model_id = serializers.JSONField(required=False, allow_null=True)
    capabilities = CapabilitiesField(required=False, allow_null=True)
    initial_files = InitialFilesField(required=False, allow_null=True)
    max_iterations = serializers.JSONField(required=False, allow_null=True)
    parallel_tool_calls = serializers.JSONField(required=False, allow_null=True)
    network_access = NetworkAccessField(required=False, allow_null=True)
    parent_harness_id = serializers.JSONField(required=False, allow_null=True)
    tags = serializers.JSONField(required=False, allow_null=True)
    status = serializers.JSONField(required=False, allow_null=True, help_text="PATCH only: active | archived")


class HarnessExampleSerializer(serializers.Serializer):
    name = StrictCharField()
    display_name = StrictCharField()
    description = StrictCharField()
    tags = serializers.ListField(child=StrictCharField())
    capabilities = CapabilitiesField()
    dev_only = StrictBooleanField()
    parent_name = StrictCharField(allow_null=True)

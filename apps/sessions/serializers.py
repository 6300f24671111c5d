"""Request and response shapes for sessions, messages and events (contract 3.2, 3.3, 3.5)."""

import base64
import binascii
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.capabilities.registry import features_of, normalize_refs
from apps.core import ids
from apps.core.fields import PublicIdField, StrictCharField, TimestampField, format_ts
from apps.mcp.serializers import McpServersField
from apps.mcp.services import attachments_map as mcp_attachments_map

from .events import event_to_dict

USER_PART_TYPES = ("text", "image", "image_file")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


# --------------------------------------------------------------------------- sessions
class SessionUsageSerializer(serializers.Serializer):
    """TokenUsage (contract 3.4)."""

    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cache_read_tokens = serializers.IntegerField(required=False)
    cache_creation_tokens = serializers.IntegerField(required=False)


class SessionCapabilityRefSerializer(serializers.Serializer):
    """AgentCapabilityConfig: a capability id plus its config."""

    ref = StrictCharField()
    config = serializers.DictField()


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["ref"],
                    "properties": {"ref": {"type": "string"}, "config": {"type": "object"}},
                },
            ]
        },
        "description": "Capability ids or {ref, config} objects; session-level, applied after the agent's.",
    }
)
class CapabilityRefsField(serializers.JSONField):
    """Capability references as sent by clients: validated by the capability registry (400 shape, 422 unknown)."""

    def to_internal_value(self, data):
        value: Any = super().to_internal_value(data)
        return normalize_refs(value, organization_id=self.context.get("organization_id"))


class SessionSerializer(serializers.ModelSerializer):
    id = PublicIdField("session", read_only=True)
    organization_id = PublicIdField("org", read_only=True)
    agent_id = PublicIdField("agent", source="agent.public_id", read_only=True)
    model_id = PublicIdField("model", read_only=True, allow_null=True)
    capabilities = SessionCapabilityRefSerializer(many=True, read_only=True)
    mcpServers = McpServersField(read_only=True, help_text="MCP servers of this session (added to the agent's).")
    status = StrictCharField(read_only=True, help_text="started | active | idle")
    features = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    started_at = TimestampField(read_only=True, allow_null=True)
    finished_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        from .models import Session

        model = Session
        fields = [
            "id",
            "organization_id",
            "agent_id",
            "title",
            "tags",
            "model_id",
            "capabilities",
            "mcpServers",
            "status",
            "features",
            "usage",
            "preview",
            "output_preview",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=StrictCharField()))
    def get_features(self, session) -> list[str]:
        return session_features(session)

    @extend_schema_field(SessionUsageSerializer(allow_null=True))
    def get_usage(self, session) -> dict | None:
        return session.usage

    def to_representation(self, instance) -> dict:
        # The declared fields document the shape (OpenAPI); the body is built by one plain function,
        # ~3x faster than field-by-field rendering, which matters on the one paginated list.
        return session_to_dict(instance)


def session_features(session) -> list[str]:
    """Computed at read time from the agent's capabilities then the session's (contract 3.2)."""
    return features_of([*(session.agent.capabilities or []), *(session.capabilities or [])])


def session_to_dict(session, mcp_servers: dict | None = None) -> dict:
    """The Session resource (contract 3.2). Needs `agent` (and `model`) loaded: select_related them.
    `mcp_servers`: the session's `mcpServers` when the caller loaded them for a whole page (else one query)."""
    if mcp_servers is None:
        mcp_servers = mcp_attachments_map(owner_kind="session", owner_ids=[session.pk])[session.pk]
    return {
        "id": ids.format_id("session", session.pk),
        "organization_id": ids.format_id("org", session.organization_id),
        "agent_id": ids.format_id("agent", session.agent.public_id),
        "title": session.title,
        "tags": session.tags,
        "model_id": ids.format_id("model", session.model_id),
        "capabilities": [{"ref": ref["ref"], "config": ref.get("config") or {}} for ref in session.capabilities or []],
        "mcpServers": mcp_servers,
        "status": session.status,
        "features": session_features(session),
        "usage": session.usage,
        "preview": session.preview,
        "output_preview": session.output_preview,
        "started_at": format_ts(session.started_at),
        "finished_at": format_ts(session.finished_at),
        "created_at": format_ts(session.created_at),
        "updated_at": format_ts(session.updated_at),
    }


class SessionCreateSerializer(serializers.Serializer):
    agent_id = PublicIdField("agent")
    title = StrictCharField(required=False, allow_null=True, allow_blank=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    model_id = PublicIdField("model", required=False, allow_null=True)
    capabilities = CapabilityRefsField(required=False, allow_null=True)
    mcpServers = McpServersField(required=False, allow_null=True, help_text="Added to the agent's for this session.")


class SessionUpdateSerializer(serializers.Serializer):
    agent_id = PublicIdField("agent", required=False, help_text="Immutable: only the session's own agent is accepted.")
    title = StrictCharField(required=False, allow_null=True, allow_blank=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    model_id = PublicIdField("model", required=False, allow_null=True)
    capabilities = CapabilityRefsField(required=False, allow_null=True)


class CancelTurnResponseSerializer(serializers.Serializer):
    status = StrictCharField()
    message = StrictCharField()


# --------------------------------------------------------------------------- messages
class ContentPartSerializer(serializers.Serializer):
    """A user content part: `text` {text}, `image` {url | base64 + media_type}, `image_file` {image_id, filename?}."""

    type = StrictCharField(help_text="text | image | image_file")
    text = StrictCharField(required=False, trim_whitespace=False)
    url = StrictCharField(required=False)
    base64 = StrictCharField(required=False)
    media_type = StrictCharField(required=False)
    image_id = StrictCharField(required=False)
    filename = StrictCharField(required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        part_type = attrs["type"]
        if part_type == "text":
            if "text" not in attrs:
                raise serializers.ValidationError("text part needs text")
            return {"type": "text", "text": attrs["text"]}
        if part_type == "image":
            if attrs.get("url"):
                return {"type": "image", "url": attrs["url"]}
            if attrs.get("base64") and attrs.get("media_type", "").startswith("image/"):
                try:
                    base64.b64decode(attrs["base64"], validate=True)
                except (binascii.Error, ValueError):
                    raise serializers.ValidationError("image base64 does not decode") from None
                return {"type": "image", "base64": attrs["base64"], "media_type": attrs["media_type"]}
            raise serializers.ValidationError("image part needs url, or base64 with an image/* media_type")
        if part_type == "image_file":
            if ids.parse_id("img", attrs.get("image_id")) is None:
                raise serializers.ValidationError("image_file part needs an img_ id")
            part = {"type": "image_file", "image_id": attrs["image_id"]}
            if attrs.get("filename") is not None:
                part["filename"] = attrs["filename"]
            return part
        raise serializers.ValidationError(f"users may not send {part_type!r} parts"[:100])


class ReasoningSerializer(serializers.Serializer):
    effort = StrictCharField(help_text="none | minimal | low | medium | high | xhigh")

    def validate_effort(self, value: str) -> str:
        if value not in REASONING_EFFORTS:
            raise serializers.ValidationError("unknown reasoning effort")
        return value


class ControlsSerializer(serializers.Serializer):
    """Per-message overrides (contract 3.3)."""

    model_id = PublicIdField("model", required=False, allow_null=True)
    reasoning = ReasoningSerializer(required=False, allow_null=True)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)

    def to_internal_value(self, data):
        # Back to plain JSON (the model id as the public string), dropping nulls: this dict is stored as is.
        values = super().to_internal_value(data)
        controls = {key: value for key, value in values.items() if value is not None}
        if "model_id" in controls:
            controls["model_id"] = ids.format_id("model", controls["model_id"])
        if "reasoning" in controls:
            controls["reasoning"] = dict(controls["reasoning"])
        return controls


class MessageInputSerializer(serializers.Serializer):
    role = StrictCharField(required=False, default="user", help_text='only "user" may be sent')
    content = ContentPartSerializer(many=True, allow_empty=False)
    controls = ControlsSerializer(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)

    def validate_role(self, value: str) -> str:
        if value != "user":
            raise serializers.ValidationError("only user messages may be sent")
        return value


class MessageCreateSerializer(serializers.Serializer):
    """CreateMessageRequest: `controls`/`metadata`/`tags` top-level or inside `message` (top-level wins)."""

    message = MessageInputSerializer()
    controls = ControlsSerializer(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        message = attrs["message"]
        result: dict[str, Any] = {"content": [dict(part) for part in message["content"]]}
        for key in ("controls", "metadata", "tags"):
            value = attrs.get(key) if attrs.get(key) is not None else message.get(key)
            result[key] = value
        return result


class MessageSerializer(serializers.Serializer):
    """Message (contract 3.3), read back from its event."""

    id = StrictCharField()
    session_id = StrictCharField()
    sequence = serializers.IntegerField()
    role = StrictCharField(help_text="user | agent | tool_result")
    content = serializers.ListField(child=serializers.DictField())
    controls = serializers.DictField(required=False)
    metadata = serializers.DictField(required=False, allow_null=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    thinking = StrictCharField(required=False, allow_null=True)
    thinking_signature = StrictCharField(required=False, allow_null=True)
    created_at = StrictCharField()


# --------------------------------------------------------------------------- events
class EventSerializer(serializers.Serializer):
    """Event envelope (contract 3.5); rendered by `events.event_to_dict`, the same code as the SSE `data:` line."""

    id = StrictCharField()
    type = StrictCharField()
    ts = StrictCharField()
    session_id = StrictCharField()
    sequence = serializers.IntegerField()
    context = serializers.DictField()  # type: ignore[assignment]  # the envelope's field, not Field.context
    data = serializers.DictField()  # type: ignore[assignment]  # the envelope's field, not Serializer.data
    metadata = serializers.JSONField(required=False, allow_null=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)

    def to_representation(self, instance) -> dict:
        return event_to_dict(instance)

"""Request and response shapes for sessions, messages and events (contract 3.2, 3.3, 3.5)."""

import base64
import binascii
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.capabilities.registry import features_of, normalize_refs
from apps.core import ids
from apps.core.fields import PublicIdField, StrictBooleanField, StrictCharField, TimestampField, format_ts
from apps.mcp.serializers import McpServersField
from apps.mcp.services import attachments_map as mcp_attachments_map

from .events import event_to_dict

USER_PART_TYPES = ("text", "image", "image_file")
# BCP 47-shaped (language, then subtags): `en`, `uk-UA`, `zh-Hant-TW`.
LOCALE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
TOOL_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TOOL_TYPES = ("client_side", "builtin")
INITIAL_FILE_ENCODINGS = ("text", "base64")  # the session filesystem's (apps.files)
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


class SessionToolSerializer(serializers.Serializer):
    """ToolDefinition: a tool the model may call; `client_side` ones are executed by the client."""

    name = serializers.RegexField(TOOL_NAME_PATTERN)
    description = StrictCharField(max_length=4000, allow_blank=True)
    parameters = serializers.DictField()
    type = serializers.ChoiceField(TOOL_TYPES, default="client_side")
    display_name = StrictCharField(required=False, allow_null=True, max_length=200)
    category = StrictCharField(required=False, allow_null=True, max_length=200)

    def to_internal_value(self, data):
        # Back to a plain dict without the absent optional keys: stored as is.
        values = super().to_internal_value(data)
        return {key: value for key, value in values.items() if value is not None}


class InitialFileSerializer(serializers.Serializer):
    """InitialFile: a starter file copied into a new session (`path` relative to the session root)."""

    path = StrictCharField(max_length=1024)
    content = StrictCharField(allow_blank=True, trim_whitespace=False)
    encoding = serializers.ChoiceField(INITIAL_FILE_ENCODINGS, required=False, allow_null=True)
    is_readonly = StrictBooleanField(required=False, allow_null=True)

    def validate_path(self, value: str) -> str:
        # The spec accepts the hosted service's `/workspace` root as a prefix: it is this session's root.
        value = value.removeprefix("/workspace/") if value.startswith("/workspace/") else value
        parts = [part for part in value.strip("/").split("/") if part]
        if not parts or any(part in (".", "..") for part in parts) or "\x00" in value:
            raise serializers.ValidationError("invalid path")
        return "/" + "/".join(parts)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return {key: value for key, value in values.items() if value is not None}


class PrincipalSummarySerializer(serializers.Serializer):
    """PrincipalSummary: the session's owner, a principal of kind `user` (subject_id: the user's id)."""

    id = StrictCharField()
    kind = StrictCharField(help_text="user")
    subject_id = serializers.UUIDField(allow_null=True)


class SessionSerializer(serializers.ModelSerializer):
    id = PublicIdField("session", read_only=True)
    organization_id = PublicIdField("org", read_only=True)
    workspace_id = StrictCharField(
        read_only=True, allow_null=True, help_text="Always null: this server has no workspaces (yet)."
    )
    agent_id = PublicIdField("agent", source="agent.public_id", read_only=True, allow_null=True)
    harness_id = PublicIdField("harness", read_only=True)
    agent_version_id = PublicIdField("agentver", read_only=True, allow_null=True)
    model_id = PublicIdField("model", read_only=True, allow_null=True)
    capabilities = SessionCapabilityRefSerializer(many=True, read_only=True)
    mcpServers = McpServersField(read_only=True, help_text="MCP servers of this session (added to the agent's).")
    tools = SessionToolSerializer(many=True, read_only=True)
    initial_files = InitialFileSerializer(many=True, read_only=True)
    status = StrictCharField(read_only=True, help_text="started | active | idle | waitingfortoolresults")
    features = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    owner_principal_id = StrictCharField(read_only=True, allow_null=True)
    owner = PrincipalSummarySerializer(read_only=True, allow_null=True)
    effective_owner = PrincipalSummarySerializer(read_only=True, allow_null=True)
    resolved_owner_user_id = serializers.UUIDField(read_only=True, allow_null=True)
    is_pinned = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Pinned by the caller (null without a user)."
    )
    parent_session_id = PublicIdField("session", read_only=True, allow_null=True)
    forked_from_session_id = PublicIdField("session", read_only=True, allow_null=True)
    forked_from_sequence = serializers.IntegerField(read_only=True, allow_null=True)
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
            "workspace_id",
            "agent_id",
            "harness_id",
            "agent_version_id",
            "title",
            "tags",
            "model_id",
            "locale",
            "system_prompt",
            "capabilities",
            "mcpServers",
            "tools",
            "initial_files",
            "hints",
            "status",
            "features",
            "usage",
            "owner_principal_id",
            "owner",
            "effective_owner",
            "resolved_owner_user_id",
            "is_pinned",
            "preview",
            "output_preview",
            "parent_session_id",
            "forked_from_session_id",
            "forked_from_sequence",
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
    agent_refs = session.agent.capabilities or [] if session.agent_id else []
    return features_of([*agent_refs, *(session.capabilities or [])])


def owner_summary(user_id) -> dict | None:
    """PrincipalSummary for a user: this server's principals are its users (`principal_<user id hex>`)."""
    if user_id is None:
        return None
    return {"id": ids.format_id("principal", user_id), "kind": "user", "subject_id": str(user_id)}


def session_to_dict(session, mcp_servers: dict | None = None) -> dict:
    """The Session resource (contract 3.2 plus the published spec's fields).

    Needs `agent` (and `model`) loaded: select_related them. `is_pinned` is the caller's: the selectors
    annotate it (`pinned`); a row without the annotation renders null (no user context). `mcp_servers`: the
    session's `mcpServers` when the caller loaded them for a whole page (else one query).
    """
    if mcp_servers is None:
        mcp_servers = mcp_attachments_map(owner_kind="session", owner_ids=[session.pk])[session.pk]
    owner = owner_summary(session.created_by_id)
    return {
        "id": ids.format_id("session", session.pk),
        "organization_id": ids.format_id("org", session.organization_id),
        "workspace_id": None,
        "agent_id": ids.format_id("agent", session.agent.public_id) if session.agent_id else None,
        "harness_id": ids.format_id("harness", session.harness_id or getattr(session.agent, "harness_id", None)),
        "agent_version_id": ids.format_id("agentver", session.agent_version_id),
        "title": session.title,
        "tags": session.tags,
        "model_id": ids.format_id("model", session.model_id),
        "locale": session.locale,
        "system_prompt": session.system_prompt,
        "capabilities": [{"ref": ref["ref"], "config": ref.get("config") or {}} for ref in session.capabilities or []],
        "mcpServers": mcp_servers,
        "tools": session.tools or [],
        "initial_files": session.initial_files or [],
        "hints": session.hints,
        "status": session.status,
        "features": session_features(session),
        "usage": session.usage,
        "owner_principal_id": owner["id"] if owner else None,
        "owner": owner,
        "effective_owner": owner,
        "resolved_owner_user_id": str(session.created_by_id) if session.created_by_id else None,
        "is_pinned": getattr(session, "pinned", None),
        "preview": session.preview,
        "output_preview": session.output_preview,
        "parent_session_id": ids.format_id("session", session.parent_session_id),
        "forked_from_session_id": ids.format_id("session", session.forked_from_session_id),
        "forked_from_sequence": session.forked_from_sequence,
        "started_at": format_ts(session.started_at),
        "finished_at": format_ts(session.finished_at),
        "created_at": format_ts(session.created_at),
        "updated_at": format_ts(session.updated_at),
    }


class SessionLayersSerializer(serializers.Serializer):
    """The fields a client sets on a session at creation and may change later (PATCH: only those present)."""

    title = StrictCharField(required=False, allow_null=True, allow_blank=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    model_id = PublicIdField("model", required=False, allow_null=True)
    capabilities = CapabilityRefsField(required=False, allow_null=True)
    locale = serializers.RegexField(LOCALE_PATTERN, max_length=35, required=False, allow_null=True)
    system_prompt = StrictCharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    tools = SessionToolSerializer(many=True, required=False, allow_null=True)
    initial_files = InitialFileSerializer(many=True, required=False, allow_null=True)
    hints = serializers.DictField(required=False, allow_null=True)

    def validate_tools(self, value):
        names = [tool["name"] for tool in value or []]
        if len(names) != len(set(names)):
            raise serializers.ValidationError("duplicate tool name")
        return value

    def validate_initial_files(self, value):
        paths = [item["path"] for item in value or []]
        if len(paths) != len(set(paths)):
            raise serializers.ValidationError("duplicate initial file path")
        return value


class SessionCreateSerializer(SessionLayersSerializer):
    agent_id = PublicIdField("agent", required=False, allow_null=True)
    harness_id = PublicIdField("harness", required=False, allow_null=True, help_text="Default: the agent's harness.")
    harness_name = StrictCharField(required=False, allow_null=True, help_text="A harness by name instead of by id.")
    mcpServers = McpServersField(required=False, allow_null=True, help_text="Added to the agent's for this session.")
    agent_name = StrictCharField(
        required=False, allow_null=True, max_length=255, help_text="The agent by name instead of by id."
    )
    workspace_id = StrictCharField(
        required=False, allow_null=True, help_text="Workspaces do not exist on this server: any id is 404."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("agent_id") is not None and attrs.get("agent_name") is not None:
            raise serializers.ValidationError("agent_id and agent_name are mutually exclusive")
        return attrs


class SessionUpdateSerializer(SessionLayersSerializer):
    agent_id = PublicIdField("agent", required=False, help_text="Immutable: only the session's own agent is accepted.")


class SessionForkSerializer(serializers.Serializer):
    """ForkSessionRequest plus `sequence` (our addition: the fork point; default the parent's latest event).
    Omitted fields inherit the parent's; `title` defaults to "{parent title} (fork)"."""

    sequence = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    title = StrictCharField(required=False, allow_null=True, allow_blank=True)
    tags = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    agent_id = PublicIdField("agent", required=False, allow_null=True)
    model_id = PublicIdField("model", required=False, allow_null=True)
    locale = serializers.RegexField(LOCALE_PATTERN, max_length=35, required=False, allow_null=True)
    system_prompt = StrictCharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)


class SessionResumeResponseSerializer(serializers.Serializer):
    """ResumeSessionResponse (what the SDK parses) plus the turn that will run again."""

    session_id = StrictCharField()
    resumed_budgets = serializers.IntegerField(help_text="Always 0: this server has no budgets.")
    turn_id = StrictCharField()
    status = StrictCharField(help_text="queued")


class SecretsSetSerializer(serializers.Serializer):
    """BatchSetSecretsRequest: `{"secrets": {name: value}}`; names and values are checked by the service
    (apps.sessions.secrets), so no value ever reaches a validation message or a log."""

    secrets = serializers.DictField(help_text="Secret name -> value; existing names are overwritten.")


class SecretsSetResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class SecretInfoSerializer(serializers.Serializer):
    """A secret's name and timestamps: values are never returned."""

    name = StrictCharField()
    created_at = TimestampField()
    updated_at = TimestampField()


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

"""/v1/mcp-servers shapes (spec tag `mcp-servers`). Credentials are write-only: `api_key_set` and header names."""

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictCharField, TimestampField
from apps.llm.serializers import URL_FIELDS, ResourceUrlsMixin

from .models import McpServer
from .services import REDACTED

TRANSPORTS = ["http", "sse", "stdio"]  # stdio is the spec's; refused with 422 (remote servers only)
AUTH_MODES = ["none", "api_key", "o_auth"]  # o_auth is the spec's; refused with 422 (not supported yet)
PROTOCOL_MODES = [value for value, _ in McpServer.PROTOCOL_MODES]
STATUSES = [value for value, _ in McpServer.STATUSES]
MCP_SERVERS_SCHEMA = {
    "type": "object",
    "description": (
        'MCP servers by key: `{"<key>": {"server_id": "mcp_…", "tools": ["tool", …]}}`; `tools` is an '
        "allow-list of the server's tool names (absent or null: all). Responses add the server's `name`."
    ),
    "additionalProperties": {
        "type": "object",
        "properties": {
            "server_id": {"type": "string", "example": "mcp_0000000000000000000000000000001"},
            "tools": {"type": "array", "items": {"type": "string"}, "nullable": True},
            "name": {"type": "string", "readOnly": True},
        },
        "required": ["server_id"],
    },
}


@extend_schema_field(MCP_SERVERS_SCHEMA)
class McpServersField(serializers.JSONField):
    """The `mcpServers` map; checked against the organization's MCP servers by the service."""


HEADERS = serializers.DictField(child=StrictCharField(allow_blank=True, trim_whitespace=False))


class McpToolSerializer(serializers.Serializer):
    """A tool the server listed (cached): its own name, the name the model sees, description, input schema."""

    name = serializers.CharField()
    model_name = serializers.CharField(help_text="`mcp__<server>__<tool>`: the tool name agents' models see.")
    description = serializers.CharField()
    input_schema = serializers.DictField()


class McpServerSerializer(ResourceUrlsMixin, serializers.ModelSerializer):
    """MCP server (spec `McpServer` with links). Header values are shown as `********`; the API key never."""

    detail_route = "mcp-server-detail"
    id_prefix = "mcp"

    id = PublicIdField("mcp", source="pk", read_only=True)
    transport_type = serializers.ChoiceField(choices=TRANSPORTS, read_only=True)
    auth_mode = serializers.ChoiceField(choices=AUTH_MODES, read_only=True)
    headers = serializers.SerializerMethodField()
    capability_id = serializers.CharField(
        read_only=True, help_text="`mcp:<id>`: attach with this capability reference (or through `mcpServers`)."
    )
    oauth_provider_id = serializers.SerializerMethodField()
    tools = serializers.SerializerMethodField()
    tools_refreshed_at = TimestampField(read_only=True)
    archived_at = TimestampField(read_only=True)
    deleted_at = TimestampField(read_only=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = McpServer
        fields = [
            "id",
            "name",
            "description",
            "url",
            "transport_type",
            "protocol_mode",
            "auth_mode",
            "status",
            "api_key_set",
            "headers",
            "oauth_provider_id",
            "capability_id",
            "tools",
            "tools_refreshed_at",
            "archived_at",
            "deleted_at",
            "created_at",
            "updated_at",
            *URL_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(HEADERS)
    def get_headers(self, server: McpServer) -> dict[str, str]:
        return dict.fromkeys(server.header_names or [], REDACTED)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_oauth_provider_id(self, server: McpServer) -> None:
        return None

    @extend_schema_field(McpToolSerializer(many=True, allow_null=True))
    def get_tools(self, server: McpServer) -> list[dict] | None:
        from .capability import tool_name

        if server.tools is None:
            return None
        return [
            {
                "name": tool["name"],
                "model_name": tool_name(server.name, tool["name"]),
                "description": tool.get("description") or "",
                "input_schema": tool.get("input_schema") or {},
            }
            for tool in server.tools
        ]


class McpServerCreateSerializer(serializers.Serializer):
    """CreateMcpServerRequest."""

    name = StrictCharField(max_length=255, trim_whitespace=False, help_text="Unique in your organization.")
    url = StrictCharField(max_length=2048, help_text="http(s) endpoint (Streamable HTTP, or SSE for older servers).")
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    transport_type = serializers.ChoiceField(choices=TRANSPORTS, required=False, allow_null=True)
    protocol_mode = serializers.ChoiceField(choices=PROTOCOL_MODES, required=False, allow_null=True)
    auth_mode = serializers.ChoiceField(choices=AUTH_MODES, required=False, allow_null=True)
    api_key = StrictCharField(
        required=False, allow_null=True, allow_blank=True, help_text="Sent as `Authorization: Bearer`; write-only."
    )
    headers = serializers.DictField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False),
        required=False,
        allow_null=True,
        help_text="Extra HTTP headers (e.g. credentials); stored encrypted, values never returned.",
    )


class McpServerUpdateSerializer(McpServerCreateSerializer):
    """UpdateMcpServerRequest: every field optional. `headers` replaces the map (a `********` value keeps the
    stored one); `api_key: null` removes the key."""

    name = StrictCharField(max_length=255, trim_whitespace=False, required=False, allow_null=True)
    url = StrictCharField(max_length=2048, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=[s for s in STATUSES if s != "deleted"], required=False, allow_null=True)


McpServerToolsSerializer = inline_serializer(
    "McpServerTools", {"data": McpToolSerializer(many=True), "total": serializers.IntegerField()}
)

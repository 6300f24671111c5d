from django.contrib import admin

from .models import McpAttachment, McpServer


@admin.register(McpServer)
class McpServerAdmin(admin.ModelAdmin):
    """MCP servers; credentials are never shown (set them through the API)."""

    list_display = ["name", "organization", "url", "transport_type", "status", "api_key_set", "tools_refreshed_at"]
    list_filter = ["status", "transport_type", "organization"]
    search_fields = ["name", "description", "url"]
    readonly_fields = [
        "api_key_set",
        "header_names",
        "tools",
        "tools_refreshed_at",
        "archived_at",
        "deleted_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["secrets_encrypted", "secrets_key_id"]

    def has_add_permission(self, request) -> bool:
        return False  # creation checks the URL and encrypts credentials: the API's service does it


@admin.register(McpAttachment)
class McpAttachmentAdmin(admin.ModelAdmin):
    """Which agents, harnesses and sessions use which MCP server (their `mcpServers`)."""

    list_display = ["owner_kind", "owner_id", "key", "server", "tools"]
    list_filter = ["owner_kind"]
    search_fields = ["key", "server__name"]

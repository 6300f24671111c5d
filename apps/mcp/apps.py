from django.apps import AppConfig


class McpConfig(AppConfig):
    name = "apps.mcp"
    label = "mcp"
    verbose_name = "MCP servers"

    def ready(self) -> None:
        # `mcp:<id>` capability references resolve through this app (apps.capabilities never imports it).
        from apps.capabilities.registry import register_source
        from apps.llm.services import encrypted_secrets_register

        from .capability import load_capability
        from .services import mcp_server_secrets_rotate

        register_source("mcp", load_capability)
        encrypted_secrets_register("mcp_servers", mcp_server_secrets_rotate)

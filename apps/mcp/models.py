"""MCP servers of an organization and their attachments to agents, harnesses and sessions."""

from django.db import models
from django.db.models import Q

from apps.core.ids import format_id
from apps.core.models import PublicModel


class McpServer(PublicModel):
    """A remote MCP server: its endpoint, encrypted credentials and the cached list of its tools."""

    STATUS_ACTIVE = "active"
    STATUS_DISABLED = "disabled"
    STATUS_ARCHIVED = "archived"
    STATUS_DELETED = "deleted"
    STATUSES = [(s, s) for s in (STATUS_ACTIVE, STATUS_DISABLED, STATUS_ARCHIVED, STATUS_DELETED)]
    TRANSPORTS = [("http", "http"), ("sse", "sse")]
    AUTH_MODES = [("none", "none"), ("api_key", "api_key")]
    PROTOCOL_MODES = [(m, m) for m in ("auto", "legacy", "stable", "rc")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="mcp_servers")
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    url = models.CharField(max_length=2048)
    transport_type = models.CharField(max_length=16, choices=TRANSPORTS, default="http")
    protocol_mode = models.CharField(max_length=16, choices=PROTOCOL_MODES, default="auto")
    auth_mode = models.CharField(max_length=16, choices=AUTH_MODES, default="none")
    status = models.CharField(max_length=16, choices=STATUSES, default=STATUS_ACTIVE, db_index=True)
    # AES-256-GCM (apps.llm.crypto, the provider keys' key ring) of {"api_key": ..., "headers": {...}} as JSON;
    # header *names* are kept in clear in `header_names` so responses can list them without decrypting.
    secrets_encrypted = models.TextField(null=True, blank=True, editable=False)
    secrets_key_id = models.CharField(max_length=64, null=True, blank=True, editable=False)
    header_names = models.JSONField(default=list, blank=True)
    api_key_set = models.BooleanField(default=False)
    # The last tool listing: [{"name", "description", "input_schema"}]; null until first discovered.
    tools = models.JSONField(null=True, blank=True)
    tools_refreshed_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], condition=~Q(status="deleted"), name="uniq_mcp_server_name_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_id(self) -> str:
        return format_id("mcp", self.pk) or ""

    @property
    def capability_id(self) -> str:
        """The capability reference that attaches this server (`mcp:mcp_…`)."""
        return f"mcp:{self.public_id}"


class McpAttachment(models.Model):
    """One entry of an owner's `mcpServers` map: a server, under a key, with an optional tool allow-list.

    The owner is named by kind and primary key (agent, harness or session) rather than by foreign keys, so the
    owning apps need no schema change; their services replace the rows when `mcpServers` is written.
    """

    OWNER_KINDS = [("agent", "agent"), ("harness", "harness"), ("session", "session")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    owner_kind = models.CharField(max_length=16, choices=OWNER_KINDS)
    owner_id = models.UUIDField()
    key = models.CharField(max_length=255)
    server = models.ForeignKey(McpServer, on_delete=models.CASCADE, related_name="attachments")
    # Tool names (as the server lists them) the model may use; null: all of them.
    tools = models.JSONField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["owner_kind", "owner_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner_kind", "owner_id", "key"], name="uniq_mcp_attachment_key"),
        ]
        indexes = [models.Index(fields=["owner_kind", "owner_id"], name="mcp_attachment_owner")]

    def __str__(self) -> str:
        return f"{self.owner_kind}:{self.owner_id} -> {self.key}"

"""MCP server writes, credentials, tool discovery and the `mcpServers` attachments of agents, harnesses, sessions.

- Credentials (`api_key`, sent as `Authorization: Bearer …`, and extra `headers`) are encrypted together with the
  key ring of provider API keys (apps/llm/crypto.py), bound to the row. Responses show `api_key_set` and header
  names only; nothing decrypted is logged.
- URLs: http(s) only, no user-info; a host that resolves to a non-public address is refused (422) unless
  MCP_ALLOW_PRIVATE_URLS; the connection itself is pinned to checked addresses again (apps.mcp.client).
- Tools are listed through the SDK and cached on the row (`tools`, `tools_refreshed_at`): on create, on a change
  of URL/credentials, on `POST …/refresh`, and by a turn when the cache is older than MCP_TOOLS_CACHE_SECS.
"""

import json
import logging
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.core import ids
from apps.core.exceptions import InvalidRequest, NotFound, Unprocessable
from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked
from apps.llm import crypto
from apps.llm.services import ENCRYPTION_NOT_CONFIGURED, RotationResult

from . import client
from .models import McpAttachment, McpServer

logger = logging.getLogger("everruns.mcp")

DUPLICATE_NAME = "An MCP server with this name already exists"
ADDRESS_NOT_ALLOWED = "MCP server address is not allowed"
MAX_HEADERS = 50
MAX_ATTACHMENTS = 50
REDACTED = "********"  # what responses show for a stored header value


# --------------------------------------------------------------------------- validation
def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequest(log_detail="mcp url must be a non-empty string")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidRequest(log_detail="mcp url does not parse") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise InvalidRequest("MCP server URL must be an http(s) URL")
    if parts.username or parts.password:
        raise InvalidRequest("MCP server URL must not contain credentials: use api_key or headers")
    if not settings.MCP_ALLOW_PRIVATE_URLS:
        try:
            resolve_checked(parts.hostname, port)
        except AddressNotAllowed:
            raise Unprocessable(ADDRESS_NOT_ALLOWED) from None
        except HostUnresolvable:
            pass  # may resolve where the workers run; every connection is checked again
    return url


def _check_headers(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise InvalidRequest(log_detail="mcp headers must be an object of at most 50 strings")
    for name, value in headers.items():
        # Header names are tokens; values must not smuggle a line break into the request.
        if not isinstance(name, str) or not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            raise InvalidRequest(log_detail="bad mcp header name")
        if not isinstance(value, str) or "\r" in value or "\n" in value or len(value) > 8192:
            raise InvalidRequest(log_detail="bad mcp header value")
    return dict(headers)


def _check_choice(value: Any, choices: list[tuple[str, str]], what: str) -> str:
    if value not in [c for c, _ in choices]:
        raise InvalidRequest(log_detail=f"bad mcp {what} {value!r}"[:120])
    return value


def _clean_transport(value: Any) -> str:
    if value == "stdio":
        raise Unprocessable("stdio MCP servers are not supported: use a remote (http or sse) server")
    return _check_choice(value, McpServer.TRANSPORTS, "transport_type")


def _clean_auth_mode(value: Any) -> str:
    if value == "o_auth":
        raise Unprocessable("OAuth MCP servers are not supported yet: use api_key or headers")
    return _check_choice(value, McpServer.AUTH_MODES, "auth_mode")


def _clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise InvalidRequest(log_detail="mcp name must be a non-empty string of at most 255 characters")
    return value


# --------------------------------------------------------------------------- credentials
def _aad(server: McpServer) -> bytes:
    return b"mcp_server:" + server.pk.bytes


def _secrets(server: McpServer) -> dict:
    if not server.secrets_encrypted or not server.secrets_key_id:
        return {}
    try:
        return json.loads(crypto.decrypt(server.secrets_encrypted, key_id=server.secrets_key_id, aad=_aad(server)))
    except crypto.DecryptionFailed:
        logger.warning("%s: stored credentials do not decrypt; connecting without them", server.public_id)
        return {}


def _store_secrets(server: McpServer, *, api_key: str | None, headers: dict[str, str]) -> None:
    server.header_names = sorted(headers)
    server.api_key_set = bool(api_key)
    if not api_key and not headers:
        server.secrets_encrypted = server.secrets_key_id = None
        return
    try:
        server.secrets_encrypted, server.secrets_key_id = crypto.encrypt(
            json.dumps({"api_key": api_key, "headers": headers}), aad=_aad(server)
        )
    except crypto.EncryptionNotConfigured:
        raise InvalidRequest(ENCRYPTION_NOT_CONFIGURED) from None


def server_endpoint(server: McpServer) -> client.Endpoint:
    """How to connect to `server`, credentials decrypted (keep it in memory only)."""
    secrets = _secrets(server)
    headers = dict(secrets.get("headers") or {})
    if secrets.get("api_key") and server.auth_mode == "api_key":
        headers["Authorization"] = f"Bearer {secrets['api_key']}"
    return client.Endpoint(
        url=server.url,
        transport=server.transport_type,
        protocol_mode=server.protocol_mode,
        headers=headers,
        label=server.name,
    )


def mcp_server_secrets_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every server's credentials with the current key (run by `rotate_encryption_keys`).

    One transaction and row lock per server, so a partial run is safe to repeat; rows that do not decrypt are
    reported in `failed` and left unchanged.
    """
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    for pk in McpServer.objects.filter(secrets_encrypted__isnull=False).values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            server = McpServer.objects.select_for_update().get(pk=pk)
            if server.secrets_key_id == target:
                result.current += 1
                continue
            try:
                secrets = json.loads(
                    crypto.decrypt(server.secrets_encrypted or "", key_id=server.secrets_key_id or "", aad=_aad(server))
                )
            except crypto.DecryptionFailed:
                logger.error("cannot rotate the credentials of %s", server.public_id)
                result.failed.append(server.public_id)
                continue
            if not dry_run:
                _store_secrets(server, api_key=secrets.get("api_key"), headers=secrets.get("headers") or {})
                server.save(update_fields=["secrets_encrypted", "secrets_key_id", "header_names", "api_key_set"])
            result.rotated += 1
    return result


# --------------------------------------------------------------------------- writes
def _save(server: McpServer) -> McpServer:
    try:
        with transaction.atomic():
            server.full_clean(validate_constraints=False)
            server.save()
    except IntegrityError:
        raise InvalidRequest(DUPLICATE_NAME) from None
    return server


def _name_taken(server: McpServer) -> bool:
    others = McpServer.objects.filter(organization_id=server.organization_id, name=server.name)
    return others.exclude(status=McpServer.STATUS_DELETED).exclude(pk=server.pk).exists()


def mcp_server_create(
    *,
    organization: Organization,
    name: str,
    url: str,
    description: str | None = None,
    transport_type: str | None = None,
    protocol_mode: str | None = None,
    auth_mode: str | None = None,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> McpServer:
    """Create a server, then try to list its tools (a server that cannot be reached yet is still created).

    Raises InvalidRequest (bad input, duplicate name, no encryption key for credentials), Unprocessable (stdio,
    OAuth, an address the policy refuses).
    """
    server = McpServer(
        organization=organization,
        name=_clean_name(name),
        url=_check_url(url),
        description=description,
        transport_type=_clean_transport(transport_type or "http"),
        protocol_mode=_check_choice(protocol_mode or "auto", McpServer.PROTOCOL_MODES, "protocol_mode"),
        auth_mode=_clean_auth_mode(auth_mode or ("api_key" if api_key else "none")),
    )
    if _name_taken(server):
        raise InvalidRequest(DUPLICATE_NAME)
    _store_secrets(server, api_key=api_key or None, headers=_check_headers(headers))
    _save(server)
    mcp_server_refresh(server=server, quiet=True)
    return server


def mcp_server_update(*, server: McpServer, data: dict[str, Any]) -> McpServer:
    """PATCH: only the keys present change. `api_key: null`/`""` removes the key; `headers` replaces the map,
    where a value equal to the redaction marker keeps the stored value of that header. A change of the endpoint
    or credentials lists the tools again. Archived and deleted servers cannot be modified (except un-archiving)."""
    if server.status == McpServer.STATUS_DELETED:
        raise NotFound("MCP server not found")
    if server.status == McpServer.STATUS_ARCHIVED and set(data) - {"status"}:
        raise Unprocessable("An archived MCP server cannot be modified")
    reconnect = False
    if data.get("name") is not None:
        server.name = _clean_name(data["name"])
    if "description" in data:
        server.description = data["description"]
    if data.get("url") is not None:
        url = _check_url(data["url"])
        reconnect |= url != server.url
        server.url = url
    if data.get("transport_type") is not None:
        server.transport_type = _clean_transport(data["transport_type"])
        reconnect = True
    if data.get("protocol_mode") is not None:
        server.protocol_mode = _check_choice(data["protocol_mode"], McpServer.PROTOCOL_MODES, "protocol_mode")
    if data.get("status") is not None:
        status = _check_choice(data["status"], McpServer.STATUSES, "status")
        if status == McpServer.STATUS_DELETED:
            raise InvalidRequest(log_detail="use DELETE to delete an MCP server")
        server.archived_at = timezone.now() if status == McpServer.STATUS_ARCHIVED else None
        server.status = status
    if "api_key" in data or "headers" in data or data.get("auth_mode") is not None:
        stored = _secrets(server)
        api_key = data["api_key"] if "api_key" in data else stored.get("api_key")
        headers = stored.get("headers") or {}
        if "headers" in data:
            sent = _check_headers(data["headers"])
            headers = {k: (headers.get(k, "") if v == REDACTED else v) for k, v in sent.items()}
        if data.get("auth_mode") is not None:
            server.auth_mode = _clean_auth_mode(data["auth_mode"])
        elif "api_key" in data:
            server.auth_mode = "api_key" if api_key else "none"
        _store_secrets(server, api_key=api_key or None, headers=headers)
        reconnect = True
    if _name_taken(server):
        raise InvalidRequest(DUPLICATE_NAME)
    _save(server)
    if reconnect and server.status == McpServer.STATUS_ACTIVE:
        mcp_server_refresh(server=server, quiet=True)
    return server


@transaction.atomic
def mcp_server_delete(*, server: McpServer) -> None:
    """DELETE: a tombstone (never listed, 404 afterwards); credentials and attachments are removed."""
    McpAttachment.objects.filter(server=server).delete()
    server.status = McpServer.STATUS_DELETED
    server.deleted_at = timezone.now()
    server.secrets_encrypted = server.secrets_key_id = None
    server.header_names, server.api_key_set, server.tools = [], False, None
    server.save()


def mcp_server_refresh(*, server: McpServer, quiet: bool = False) -> list[dict]:
    """List the server's tools now and cache them. Raises McpUnavailable unless `quiet` (then the old cache stays)."""
    try:
        tools = client.list_tools(server_endpoint(server))
    except client.McpUnavailable:
        if quiet:
            return server.tools or []
        raise
    server.tools, server.tools_refreshed_at = tools, timezone.now()
    McpServer.objects.filter(pk=server.pk).update(tools=tools, tools_refreshed_at=server.tools_refreshed_at)
    return tools


def mcp_server_tools_for_turn(server: McpServer) -> list[dict]:
    """The cached tools, listed again first when never listed or older than MCP_TOOLS_CACHE_SECS (an unreachable
    server keeps its last listing: its calls then fail one by one with a tool error)."""
    age = timedelta(seconds=int(settings.MCP_TOOLS_CACHE_SECS))
    if server.tools is None or server.tools_refreshed_at is None or timezone.now() - server.tools_refreshed_at > age:
        return mcp_server_refresh(server=server, quiet=True)
    return server.tools


# --------------------------------------------------------------------------- lookups
def mcp_server_get(*, organization_id: uuid.UUID, server_id: Any) -> McpServer | None:
    """A usable (not deleted) server of the organization by `mcp_…` id or UUID, else None."""
    pk = server_id if isinstance(server_id, uuid.UUID) else ids.parse_id("mcp", server_id)
    if pk is None and isinstance(server_id, str):
        try:
            pk = uuid.UUID(server_id)
        except ValueError:
            return None
    if pk is None:
        return None
    servers = McpServer.objects.filter(organization_id=organization_id, pk=pk)
    return servers.exclude(status=McpServer.STATUS_DELETED).first()


# --------------------------------------------------------------------------- attachments (`mcpServers`)
def attachments_clean(*, organization_id: uuid.UUID, raw: Any) -> list[dict]:
    """Validate an `mcpServers` map into `[{key, server, tools}]`.

    Each entry references a server of the organization: `{"server_id": "mcp_…", "tools": ["name", …]?}`
    (`tools`: the allow-list; absent or null: every tool). Inline servers (`{"type", "url", "headers"}` as in
    client config files) are refused with 422: credentials belong on an MCP server resource, encrypted once.
    Raises InvalidRequest (shape) and Unprocessable (unknown, archived or deleted server; inline entry).
    """
    if raw is None:
        return []
    if not isinstance(raw, dict) or len(raw) > MAX_ATTACHMENTS:
        raise InvalidRequest(log_detail="mcpServers must be an object of at most 50 entries")
    cleaned = []
    for key, entry in raw.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 255 or not isinstance(entry, dict):
            raise InvalidRequest(log_detail="mcpServers entries must be objects under non-empty keys")
        server_id = entry.get("server_id")
        if server_id is None:
            if entry.get("url") or entry.get("command"):
                raise Unprocessable(
                    "Inline MCP servers are not supported: create one with POST /v1/mcp-servers and use its server_id"
                )
            raise InvalidRequest(log_detail="mcpServers entry without server_id")
        server = mcp_server_get(organization_id=organization_id, server_id=server_id)
        if server is None or server.status == McpServer.STATUS_ARCHIVED:
            raise Unprocessable(f"Unknown MCP server: {server_id}"[:300])
        tools = entry.get("tools")
        if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, str) for t in tools)):
            raise InvalidRequest(log_detail="mcpServers tools must be a list of tool names")
        cleaned.append({"key": key, "server": server, "tools": tools})
    return cleaned


@transaction.atomic
def attachments_set(*, owner_kind: str, owner_id: uuid.UUID, organization_id: uuid.UUID, entries: list[dict]) -> None:
    """Replace the owner's `mcpServers` with `entries` (from `attachments_clean`)."""
    McpAttachment.objects.filter(owner_kind=owner_kind, owner_id=owner_id).delete()
    McpAttachment.objects.bulk_create(
        McpAttachment(
            organization_id=organization_id,
            owner_kind=owner_kind,
            owner_id=owner_id,
            key=entry["key"],
            server=entry["server"],
            tools=entry["tools"],
            position=position,
        )
        for position, entry in enumerate(entries)
    )


def attachments_map(*, owner_kind: str, owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, dict]]:
    """`{owner_id: {key: {"server_id", "name", "tools"}}}` for responses (one query for a whole list page)."""
    result: dict[uuid.UUID, dict[str, dict]] = {owner_id: {} for owner_id in owner_ids}
    rows = McpAttachment.objects.filter(owner_kind=owner_kind, owner_id__in=owner_ids).select_related("server")
    for row in rows:
        result.setdefault(row.owner_id, {})[row.key] = {
            "server_id": row.server.public_id,
            "name": row.server.name,
            "tools": row.tools,
        }
    return result


def attachment_refs(*, owners: list[tuple[str, uuid.UUID]]) -> list[dict]:
    """The owners' attachments as capability references (`{"ref": "mcp:mcp_…", "config": {"tools": …}}`), in
    owner order then position: what a turn adds to its capabilities."""
    refs: list[dict] = []
    for kind, owner_id in owners:
        rows = McpAttachment.objects.filter(owner_kind=kind, owner_id=owner_id).select_related("server")
        for row in rows:
            config = {"tools": row.tools} if row.tools is not None else {}
            refs.append({"ref": row.server.capability_id, "config": config})
    return refs

"""An MCP server as a capability: `mcp:mcp_…` references (and `mcpServers` entries) resolve here.

Each of the server's tools becomes a `Tool` named `mcp__<server>__<tool>` (the convention of common MCP clients;
letters, digits, `_` and `-` only, at most 64 characters), whose handler calls the server through the SDK.
The reference's config may carry `tools`: the allow-list of the server's own tool names.
A server that cannot be reached fails the call with a ToolError the model sees; the turn goes on.
"""

import re
import uuid
from functools import partial
from typing import Any

from django.conf import settings

from apps.capabilities.base import Capability, Tool, ToolContext, ToolError

from . import client
from .models import McpServer
from .services import mcp_server_get, mcp_server_tools_for_turn, server_endpoint

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_TOOL_NAME = 64


def tool_name(server_name: str, name: str) -> str:
    """The name the model sees for `name` on the server called `server_name`."""
    server = _UNSAFE.sub("_", server_name).strip("_") or "server"
    return f"mcp__{server}__{_UNSAFE.sub('_', name)}"[:MAX_TOOL_NAME]


def _call(endpoint: client.Endpoint, name: str, arguments: dict, context: ToolContext) -> Any:
    try:
        return client.call_tool(endpoint, name, arguments)
    except client.McpToolError as exc:
        raise ToolError(str(exc)[:4000] or "The MCP tool reported an error") from None
    except client.McpUnavailable as exc:
        raise ToolError(str(exc)) from None


def load_capability(*, organization_id: uuid.UUID, ref: str, config: dict, for_turn: bool) -> Capability | None:
    """The capability of `mcp:<server id>` in this organization; None for a missing or deleted server.

    Disabled and archived servers load without tools (attached but off). Only `for_turn` may list tools over the
    network (the cache is used otherwise).
    """
    server = mcp_server_get(organization_id=organization_id, server_id=ref.split(":", 1)[1])
    if server is None:
        return None
    capability_id = server.capability_id
    tools: tuple[Tool, ...] = ()
    if server.status == McpServer.STATUS_ACTIVE:
        listed = mcp_server_tools_for_turn(server) if for_turn else (server.tools or [])
        allowed = config.get("tools") if isinstance(config.get("tools"), list) else None
        endpoint = server_endpoint(server) if for_turn else None
        grace = 5  # the client's own deadline (MCP_TOOL_TIMEOUT_SECS) answers first, with a clearer message
        tools = tuple(
            Tool(
                name=tool_name(server.name, item["name"]),
                description=item.get("description") or f"{item['name']} (MCP server {server.name})",
                parameters=item.get("input_schema") or {"type": "object", "properties": {}},
                handler=partial(_call, endpoint, item["name"]) if endpoint else _not_loaded,
                timeout_secs=float(settings.MCP_TOOL_TIMEOUT_SECS) + grace,
            )
            for item in listed
            if isinstance(item, dict) and isinstance(item.get("name"), str)
            if allowed is None or item["name"] in allowed
        )
    return Capability(
        id=capability_id,
        name=server.name,
        description=server.description or f"Tools of the MCP server {server.name}",
        category="MCP",
        icon="plug",
        tools=tools,
        is_mcp=True,
    )


def _not_loaded(arguments: dict, context: ToolContext) -> Any:
    raise ToolError("MCP tools run only inside a turn")

"""Talking to a remote MCP server through the official `mcp` SDK (its `Client`), never a hand-written protocol.

Two operations, both synchronous for their callers (the API request, a tool thread of the runner) and each on
a fresh connection (`anyio.run`): `list_tools` and `call_tool`. Transports: Streamable HTTP (`http`, the
current one) and the older HTTP+SSE (`sse`).

Address policy: every TCP connection resolves the host once, checks every address with the policy of
apps/core/netpolicy.py and connects to a checked address (the same pinning apps/llm/clients/transport.py does
for provider base URLs: no DNS rebinding between the check and the connection), unless
MCP_ALLOW_PRIVATE_URLS is on. Redirects are followed by the SDK only within the endpoint's origin.

Secrets: `Endpoint.headers` carries the decrypted credential headers. They are sent, never logged: the repr
hides them and errors are reduced to a safe message (`McpUnavailable`) before they leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpcore2
import httpx2
from django.conf import settings

from apps.llm.clients.transport import policy_addresses

logger = logging.getLogger("everruns.mcp")

TRANSPORT_HTTP = "http"
TRANSPORT_SSE = "sse"
MAX_TOOL_PAGES = 20  # a paginating server that never ends cannot hang a listing


class McpUnavailable(Exception):
    """The server could not be reached or did not answer as an MCP server; the message is safe to show."""


class McpToolError(Exception):
    """The server answered the tool call with an error result (`isError`); the message is the server's text."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect. `headers` hold credentials: excluded from repr and never logged."""

    url: str
    transport: str = TRANSPORT_HTTP
    protocol_mode: str = "auto"
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    label: str = ""  # the server's name, for messages and logs


class _PolicyBackend(httpcore2.AsyncNetworkBackend):
    """TCP connections to addresses the policy allows (resolved once, tried in resolver order)."""

    def __init__(self) -> None:
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await anyio.to_thread.run_sync(lambda: policy_addresses(host, port))
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as exc:
                error = exc
        raise error or httpcore2.ConnectError(f"{host}: no address to connect to")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        raise httpcore2.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _http_client(headers: dict[str, str] | None, timeout: float, **kwargs: Any) -> httpx2.AsyncClient:
    # trust_env off: an environment proxy would bypass the pinning (and is not the operator's MCP egress choice).
    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    if not settings.MCP_ALLOW_PRIVATE_URLS and isinstance(transport._pool, httpcore2.AsyncConnectionPool):
        transport._pool._network_backend = _PolicyBackend()
    return httpx2.AsyncClient(
        headers=headers or {},
        timeout=httpx2.Timeout(timeout),
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        **kwargs,
    )


@asynccontextmanager
async def _connected(endpoint: Endpoint, timeout: float) -> AsyncIterator[Any]:
    # The SDK takes over a second to import: loaded on first use, not by every web process and command.
    from mcp import Client
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    async with AsyncExitStack() as stack:
        if endpoint.transport == TRANSPORT_SSE:

            def factory(headers=None, timeout=None, auth=None) -> httpx2.AsyncClient:
                return _http_client({**endpoint.headers, **(headers or {})}, _seconds(timeout), auth=auth)

            transport: Any = sse_client(
                endpoint.url, timeout=timeout, sse_read_timeout=timeout, httpx_client_factory=factory
            )
        else:
            http = await stack.enter_async_context(_http_client(endpoint.headers, timeout))
            transport = streamable_http_client(endpoint.url, http_client=http)
        mode = "legacy" if endpoint.protocol_mode == "legacy" else "auto"
        client = Client(transport, mode=mode, read_timeout_seconds=timeout, cache=None)
        yield await stack.enter_async_context(client)


def _seconds(timeout: Any) -> float:
    if isinstance(timeout, int | float):
        return float(timeout)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) else float(settings.MCP_CONNECT_TIMEOUT_SECS)


def _safe_reason(exc: BaseException) -> str:
    """A short reason without headers or bodies (exception groups from task groups are unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx2.ConnectError | httpcore2.ConnectError):
        text = str(exc)
        return "non-public address refused" if "non-public" in text else "connection failed"
    if isinstance(exc, httpx2.TransportError | OSError):
        return "connection failed"
    return type(exc).__name__


def _run(endpoint: Endpoint, timeout: float, work) -> Any:
    async def main() -> Any:
        with anyio.fail_after(timeout):
            async with _connected(endpoint, timeout) as client:
                return await work(client)

    try:
        return anyio.run(main)
    except McpToolError:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        tool_error = _find(exc, McpToolError)
        if tool_error is not None:
            raise tool_error from None
        reason = _safe_reason(exc)
        logger.warning("MCP server %r unavailable: %s", endpoint.label, reason)
        if reason == "timed out":
            raise McpUnavailable(f"MCP server '{endpoint.label}' did not answer within {timeout:g} s") from None
        raise McpUnavailable(f"MCP server '{endpoint.label}' is unreachable ({reason})") from None


def _find(exc: BaseException, kind: type[BaseException]) -> Any:
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


def list_tools(endpoint: Endpoint, *, timeout: float | None = None) -> list[dict]:
    """The server's tools as `[{name, description, input_schema}]` (every page). Raises McpUnavailable."""

    async def work(client: Any) -> list[dict]:
        tools: list[dict] = []
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                tools.append(
                    {
                        "name": tool.name,
                        "description": tool.description or tool.title or "",
                        "input_schema": tool.input_schema or {"type": "object", "properties": {}},
                    }
                )
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    return _run(endpoint, float(timeout or settings.MCP_CONNECT_TIMEOUT_SECS), work)


def call_tool(endpoint: Endpoint, name: str, arguments: dict, *, timeout: float | None = None) -> Any:
    """Call one tool; returns its result (text, structured content, or content blocks).

    Raises McpToolError when the server reports the call failed, McpUnavailable when it cannot be reached or
    the call exceeds `timeout` (connection included).
    """

    seconds = float(timeout or settings.MCP_TOOL_TIMEOUT_SECS)

    async def work(client: Any) -> Any:
        result = await client.call_tool(name, arguments, read_timeout_seconds=seconds)
        blocks = [block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content]
        texts = [block.get("text", "") for block in blocks if block.get("type") == "text"]
        if result.is_error:
            raise McpToolError("\n".join(texts) or "The MCP tool reported an error")
        if result.structured_content is not None:
            return result.structured_content
        if len(texts) == len(blocks):
            return "\n".join(texts)
        return blocks

    return _run(endpoint, seconds, work)

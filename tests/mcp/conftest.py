"""A real MCP server for the tests: the `mcp` SDK's own server side (MCPServer, formerly FastMCP) over
Streamable HTTP (and SSE), served by uvicorn in a thread on 127.0.0.1 (a free port the OS picks)."""

import threading
import time
from dataclasses import dataclass, field

import anyio
import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer


@dataclass
class LocalMcpServer:
    """The running server: its URL, the SDK server object (add/remove tools live) and the requests' headers."""

    url: str
    server: MCPServer
    seen_headers: list[dict] = field(default_factory=list)
    http: object = None
    thread: object = None

    def stop(self) -> None:
        """Shut the server down (its port then refuses connections)."""
        self.http.should_exit = True
        self.thread.join(timeout=10)


class _RecordHeaders:
    """ASGI middleware: remembers every request's headers (to check what credentials arrive)."""

    def __init__(self, app, sink: list) -> None:
        self.app, self.sink = app, sink

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.sink.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


def _serve(app) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10  # start-up wait only; nothing under test is timed
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the MCP test server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def build_server() -> MCPServer:
    mcp = MCPServer("test-tools")

    @mcp.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @mcp.tool(description="Echo the text back, shouting.")
    def shout(text: str) -> str:
        return text.upper() + "!"

    @mcp.tool(description="Never answers (until the server stops).")
    async def hang() -> str:
        await anyio.sleep(3600)
        return "too late"

    @mcp.tool(description="Always fails.")
    def explode() -> str:
        raise ValueError("kaboom from the MCP server")

    return mcp


@pytest.fixture
def mcp_settings(settings):
    # The test server listens on 127.0.0.1: the documented switch for private addresses.
    settings.MCP_ALLOW_PRIVATE_URLS = True
    settings.MCP_CONNECT_TIMEOUT_SECS = 10
    settings.MCP_TOOL_TIMEOUT_SECS = 10
    return settings


def _running(app_of, path: str):
    mcp = build_server()
    seen: list[dict] = []
    server, thread, port = _serve(_RecordHeaders(app_of(mcp), seen))
    return LocalMcpServer(f"http://127.0.0.1:{port}{path}", mcp, seen, server, thread)


@pytest.fixture
def local_mcp(mcp_settings):
    """A Streamable HTTP MCP server on 127.0.0.1 with tools add, shout and explode."""
    local = _running(MCPServer.streamable_http_app, "/mcp")
    yield local
    local.stop()


@pytest.fixture
def local_mcp_sse(mcp_settings):
    """The same tools over the older HTTP+SSE transport."""
    local = _running(MCPServer.sse_app, "/sse")
    yield local
    local.stop()


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

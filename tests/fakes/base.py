"""Scriptable local HTTP servers that stand in for LLM providers in tests (the network edge).

Each fake is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 with a random port, used as a context manager
(or through the pytest fixtures in tests/fakes/plugin.py). Tests queue what the next generation request
answers and afterwards inspect every request the server received::

    with FakeOpenAIServer() as server:
        server.queue(Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})]))
        server.queue(Reply(text="It is sunny."))
        server.queue(Error(429, "slow down"))
        ...
        assert server.requests[-1].body["model"] == "gpt-4o"

Generation endpoints pop the queue in order (when it is empty they answer ``default_reply``); the models
endpoint answers ``server.models`` (or ``server.models_error`` when set). Paths are accepted with or without
the ``/v1`` prefix, so a provider ``base_url`` works in either convention.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ToolCall:
    """A tool call the fake model makes; `arguments` may be a dict or a raw (even malformed) JSON string."""

    name: str
    arguments: dict | str = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    """One scripted model answer.

    text / chunks: the answer text (``chunks`` gives the exact deltas; otherwise the text is split by words).
    tool_calls: tool calls after the text. thinking: reasoning text (Anthropic thinking block with a signature,
    OpenAI reasoning summary, Chat Completions ``reasoning_content``). usage: token counts
    (input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens). chunk_delay: seconds between
    streamed events. drop_after: close the connection after that many streamed events (a broken stream).
    finish_reason: override the natural stop reason (e.g. "max_tokens" / "length").
    """

    text: str | None = None
    chunks: list[str] | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    thinking: str | None = None
    signature: str = "sig-fake-0123456789"
    usage: dict[str, int] | None = None
    chunk_delay: float = 0.0
    drop_after: int | None = None
    finish_reason: str | None = None

    def text_deltas(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        if not self.text:
            return []
        words = self.text.split(" ")
        return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]

    @property
    def full_text(self) -> str:
        return "".join(self.text_deltas())

    def usage_counts(self) -> dict[str, int]:
        usage = {"input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 0, "cache_creation_tokens": 0}
        usage.update(self.usage or {})
        return usage


@dataclass
class Error:
    """A scripted HTTP error (429/500/529 are transient for the runtime; 400/401/403/404 permanent)."""

    status: int
    message: str = "scripted error"
    type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeRequest:
    """What the fake received: method, path, lower-cased headers and the parsed JSON body (or None)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class SSE:
    """Collects server-sent events for one streamed answer."""

    def __init__(self) -> None:
        self.events: list[tuple[str | None, str]] = []

    def add(self, event: str | None, data: dict | str) -> None:
        self.events.append((event, data if isinstance(data, str) else json.dumps(data)))


_ids = itertools.count(1)


def fake_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):04d}{uuid.uuid4().hex[:12]}"


def split_text(text: str, size: int = 12) -> list[str]:
    """Cut text into fixed-size pieces (streamed thinking / tool-argument deltas)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeLLMServer:
    """Plumbing shared by the provider fakes; subclasses implement ``handle(method, path, body)``."""

    #: Prefix the official SDK expects in its base URL (OpenAI "/v1", Anthropic "").
    sdk_path_prefix = ""

    def __init__(
        self, models: list[str] | None = None, default_reply: Reply | None = None, api_key: str | None = None
    ) -> None:
        self.models: list[str] = list(models or self.default_models)
        self.models_error: Error | None = None
        self.default_reply = default_reply or Reply(text="Hello from the fake server.")
        #: When set, requests without this key are answered 401 (like the real APIs).
        self.api_key = api_key
        self.requests: list[FakeRequest] = []
        self._queue: deque[Reply | Error] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    default_models: list[str] = []

    # -- scripting -----------------------------------------------------------------------------------
    def queue(self, *items: Reply | Error) -> FakeLLMServer:
        with self._lock:
            self._queue.extend(items)
        return self

    def next_item(self) -> Reply | Error:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default_reply

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def generation_requests(self) -> list[FakeRequest]:
        return [r for r in self.requests if r.method == "POST"]

    # -- lifecycle ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The base URL in the official SDK's convention (what a provider's base_url would hold)."""
        return self.url + self.sdk_path_prefix

    def start(self) -> FakeLLMServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------------------------------
    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = handler.path.split("?", 1)[0]
        if path.startswith("/v1/"):
            path = path[3:]
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(FakeRequest(method, path, headers, body))
        if self.api_key is not None and self.presented_key(headers) != self.api_key:
            self.send_error_json(handler, self.auth_error())
            return
        self.handle(handler, method, path, body)

    def presented_key(self, headers: dict[str, str]) -> str | None:
        """The API key the client sent (checked against ``api_key`` when that is set)."""
        raise NotImplementedError

    def auth_error(self) -> Error:
        return Error(401, "Invalid API key")

    def handle(self, handler: BaseHTTPRequestHandler, method: str, path: str, body: Any) -> None:
        raise NotImplementedError

    def error_body(self, error: Error) -> dict:
        raise NotImplementedError

    def send_json(
        self, handler: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def send_error_json(self, handler: BaseHTTPRequestHandler, error: Error) -> None:
        self.send_json(handler, error.status, self.error_body(error), error.headers)

    def send_sse(self, handler: BaseHTTPRequestHandler, sse: SSE, reply: Reply, done_marker: bool = False) -> None:
        """Stream the events (chunked transfer); honour chunk_delay and drop_after."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        events = list(sse.events)
        if done_marker:
            events.append((None, "[DONE]"))
        try:
            for index, (event, data) in enumerate(events):
                if reply.drop_after is not None and index >= reply.drop_after:
                    # A broken stream: stop mid-way without the terminating chunk.
                    handler.wfile.flush()
                    handler.close_connection = True
                    return
                text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
                chunk = text.encode()
                handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                handler.wfile.flush()
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (e.g. a cancelled turn closed the stream).
            handler.close_connection = True

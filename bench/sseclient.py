"""A minimal SSE client, sans-IO: HTTP/1.1 chunked decoding and SSE frame parsing.

Shared by the benchmarks (asyncio, thousands of connections) and the live tests (threads); small
enough to read, and free of client-library buffering that would distort latency numbers.
"""

import json


def parse_frame(block: str) -> dict:
    """One frame (text between blank lines) -> {"comment"} or {"event", "id", "retry", "data"}."""
    frame: dict = {}
    data_lines = []
    for line in block.split("\n"):
        if not line:
            continue
        if line.startswith(":"):
            frame["comment"] = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data_lines.append(value)
        elif name == "retry":
            frame["retry"] = int(value)
        else:
            frame[name] = value
    if data_lines:
        frame["data"] = json.loads("\n".join(data_lines))
    return frame


class FrameReader:
    """Splits an SSE byte stream (in any chunking) into parsed frames."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: bytes) -> list[dict]:
        self.buffer += chunk.decode()
        *blocks, self.buffer = self.buffer.split("\n\n")
        return [parse_frame(block) for block in blocks if block.strip()]


class HttpStreamDecoder:
    """Turns the raw bytes of one HTTP/1.1 response into (status, headers) and body bytes (chunked or not)."""

    def __init__(self) -> None:
        self.raw = b""
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunked = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Feed socket bytes; returns the body bytes decoded so far."""
        self.raw += data
        if self.status is None:
            head, sep, rest = self.raw.partition(b"\r\n\r\n")
            if not sep:
                return b""
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
            self.raw = rest
        if not self.chunked:
            body, self.raw = self.raw, b""
            return body
        body = b""
        while True:
            line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return body
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.done = True
                self.raw = b""
                return body
            if len(rest) < size + 2:
                return body
            body += rest[:size]
            self.raw = rest[size + 2 :]


def request_bytes(path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()

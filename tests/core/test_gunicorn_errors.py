"""Errors gunicorn answers itself (before Django) use the JSON envelope too, through a real server."""

import json
import socket

import pytest

from bench.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack():
    with Stack(env={"WEB_CONCURRENCY": "1", "WEB_THREADS": "4", "DB_POOL_MAX_SIZE": "0"}) as running:
        yield running


def _raw(stack, payload: bytes) -> tuple[int, str, dict]:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), json.loads(body)


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"GET /v1/agents/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Input exceeds allowed limits"),
        (
            b"GET /v1/agents HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
            400,
            "Input exceeds allowed limits",
        ),
        (b"this is not http\r\n\r\n", 400, "Invalid request"),
        (b"POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "Invalid request"),
    ],
)
def test_malformed_http_gets_the_json_envelope(stack, payload, status, message):
    code, content_type, body = _raw(stack, payload)
    assert (code, body) == (status, {"error": message, "status": status})
    assert content_type == "application/json"

"""gunicorn answers malformed HTTP itself, before Django runs (a request line over 4 KB, headers over
8 KB, a bad Content-Length, a garbage request line...). Its answer is an HTML page; this makes it the
same `{"error", "status"}` envelope as the rest of the site. Installed by gunicorn.conf.py.
"""

import json
import socket
from http import HTTPStatus

from gunicorn import util

from .errors import message_for_status

# Too long a URL or too many/too large headers are size limits, answered like an oversize body.
_SIZE_LIMITS = {413, 414, 431}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for gunicorn.util.write_error (same signature); `mesg` (parser detail) is not sent."""
    if status_int in _SIZE_LIMITS:
        status, message = 400, "Input exceeds allowed limits"
    else:
        status, message = status_int, message_for_status(status_int)
    body = json.dumps({"error": message, "status": status}, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_json_error

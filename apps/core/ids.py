"""Public identifiers: `{prefix}_{32 lowercase hex}` over UUIDv7 (contract 1.3).

This is the only module that generates, formats or parses public ids. Models store a plain
UUID; serializers format it through `PublicIdField`; views parse path ids with `parse_id`
(None -> the caller answers 404) and request bodies/queries with `parse_id_or_400`.
"""

import os
import re
import time
import uuid
from typing import overload

from .exceptions import InvalidRequest

PREFIXES = {
    "organization": "org",
    "agent": "agent",
    "session": "session",
    "message": "message",
    "event": "event",
    "turn": "turn",
    "exec": "exec",
    "provider": "provider",
    "model": "model",
    "image": "img",
    "file": "file",
    "harness": "harness",
    "agent_version": "agentver",
    "health_check": "healthcheck",
    "webhook": "wh",
    "webhook_delivery": "msg",  # also the Standard Webhooks `webhook-id` of the delivery
    "schedule": "sched",
    "schedule_run": "schedrun",
    "principal": "principal",  # a session's owner (apps.sessions: the owning user's id)
}

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HYPHENATED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def uuid7() -> uuid.UUID:
    """A time-ordered UUIDv7 (RFC 9562): 48-bit ms timestamp, version 7, variant 10, random rest."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


@overload
def format_id(prefix: str, value: uuid.UUID) -> str: ...
@overload
def format_id(prefix: str, value: None) -> None: ...
@overload
def format_id(prefix: str, value: uuid.UUID | None) -> str | None: ...
def format_id(prefix: str, value: uuid.UUID | None) -> str | None:
    """`format_id("agent", uuid)` -> `agent_0195…`; None stays None."""
    if value is None:
        return None
    return f"{prefix}_{value.hex}"


def new_id(prefix: str) -> str:
    """A fresh public id for things that exist only inside payloads (turn_, exec_)."""
    return format_id(prefix, uuid7())


def parse_id(prefix: str, raw: object) -> uuid.UUID | None:
    """Parse `{prefix}_{32 hex}` (also tolerating a hyphenated UUID after the prefix, contract 1.3).

    Returns None when `raw` is not a well-formed id of this prefix.
    """
    if not isinstance(raw, str):
        return None
    head, sep, tail = raw.partition("_")
    if not sep or head != prefix:
        return None
    tail = tail.lower()
    if _HEX32.match(tail) or _HYPHENATED.match(tail):
        return uuid.UUID(tail)
    return None


def parse_id_or_400(prefix: str, raw: object) -> uuid.UUID:
    """Parse an id that came in a request body or query string: malformed -> 400 Invalid request."""
    value = parse_id(prefix, raw)
    if value is None:
        raise InvalidRequest(log_detail=f"malformed {prefix} id: {raw!r}"[:200])
    return value

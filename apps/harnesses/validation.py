"""Input cleaning for the layered settings (harness, agent, session): one home so the three agree.

Each function takes what a JSON body held and returns the stored value, or raises InvalidRequest (400)
/ InputTooLarge (400 "Input exceeds allowed limits").
"""

import json
import re
from typing import Any

from apps.core.exceptions import InputTooLarge, InvalidRequest

ADDRESSABLE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # the SDK's validate_harness_name / validate_agent_name
MAX_NAME_CHARS = 64
MAX_INITIAL_FILES = 100
MAX_INITIAL_FILES_BYTES = 5 * 1_048_576  # all contents together
MAX_ITERATIONS = 1000
MAX_HOSTS = 500
MAX_TOOLS = 128
MAX_TOOLS_BYTES = 262_144


def clean_addressable_name(value: Any) -> str:
    """`[a-z0-9]+(-[a-z0-9]+)*`, at most 64 characters (harness names)."""
    if not isinstance(value, str):
        raise InvalidRequest(log_detail="name must be a string")
    if len(value) > MAX_NAME_CHARS:
        raise InputTooLarge(log_detail=f"name of {len(value)} characters")
    if not ADDRESSABLE_NAME.match(value):
        raise InvalidRequest(log_detail=f"name {value!r} is not lowercase-kebab-case"[:120])
    return value


def clean_optional_text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(log_detail=f"{field} must be a string")
    if len(value.encode("utf-8", errors="surrogatepass")) > limit:
        raise InputTooLarge(log_detail=f"{field} over {limit} bytes")
    return value


def clean_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidRequest(log_detail="tags must be a list of strings")
    if len(value) > 100 or any(len(tag.encode("utf-8", errors="surrogatepass")) > 256 for tag in value):
        raise InputTooLarge(log_detail="too many or too long tags")
    return list(value)


def clean_initial_files(value: Any) -> list[dict]:
    """[{path, content, encoding?, is_readonly?}]: absolute or relative paths, text or base64 content."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(log_detail="initial_files must be a list")
    if len(value) > MAX_INITIAL_FILES:
        raise InputTooLarge(log_detail=f"{len(value)} initial files")
    files: list[dict] = []
    total = 0
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, dict):
            raise InvalidRequest(log_detail="initial file must be an object")
        path, content = item.get("path"), item.get("content")
        encoding, readonly = item.get("encoding"), item.get("is_readonly")
        if not isinstance(path, str) or not path.strip("/ ") or "\x00" in path:
            raise InvalidRequest(log_detail="initial file needs a path")
        if not isinstance(content, str):
            raise InvalidRequest(log_detail="initial file needs string content")
        if encoding not in (None, "text", "base64"):
            raise InvalidRequest(log_detail="initial file encoding must be text or base64")
        if readonly is not None and not isinstance(readonly, bool):
            raise InvalidRequest(log_detail="is_readonly must be a boolean")
        path = "/" + path.strip().lstrip("/")
        if path in seen:
            raise InvalidRequest(log_detail=f"initial file {path!r} given twice"[:120])
        seen.add(path)
        total += len(content.encode("utf-8", errors="surrogatepass"))
        entry: dict = {"path": path, "content": content}
        if encoding is not None:
            entry["encoding"] = encoding
        if readonly is not None:
            entry["is_readonly"] = readonly
        files.append(entry)
    if total > MAX_INITIAL_FILES_BYTES:
        raise InputTooLarge(log_detail=f"initial files of {total} bytes")
    return files


def clean_max_iterations(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ITERATIONS:
        raise InvalidRequest(log_detail=f"max_iterations must be an integer in 1..{MAX_ITERATIONS}")
    return value


def clean_optional_bool(value: Any, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(log_detail=f"{field} must be a boolean")
    return value


def clean_network_access(value: Any) -> dict | None:
    """{allowed: [host patterns], blocked: [host patterns]} or None (no restriction beyond the server's)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest(log_detail="network_access must be an object")
    cleaned: dict[str, list[str]] = {}
    for key in ("allowed", "blocked"):
        hosts = value.get(key) or []
        if not isinstance(hosts, list) or not all(isinstance(host, str) and host.strip() for host in hosts):
            raise InvalidRequest(log_detail=f"network_access.{key} must be a list of host patterns")
        if len(hosts) > MAX_HOSTS:
            raise InputTooLarge(log_detail=f"network_access.{key} has {len(hosts)} entries")
        cleaned[key] = [host.strip() for host in hosts]
    return cleaned


def clean_tools(value: Any) -> list[dict]:
    """Client-side tool definitions: [{name, description, parameters (JSON Schema object), …}]."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(log_detail="tools must be a list")
    if len(value) > MAX_TOOLS:
        raise InputTooLarge(log_detail=f"{len(value)} tools")
    if len(json.dumps(value, default=str).encode()) > MAX_TOOLS_BYTES:
        raise InputTooLarge(log_detail="tool definitions too large")
    tools: list[dict] = []
    names: set[str] = set()
    for item in value:
        if not isinstance(item, dict):
            raise InvalidRequest(log_detail="tool must be an object")
        name, description = item.get("name"), item.get("description")
        parameters = item.get("parameters")
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", name):
            raise InvalidRequest(log_detail="tool name must match [A-Za-z0-9_-]{1,64}")
        if name in names:
            raise InvalidRequest(log_detail=f"tool {name!r} defined twice")
        names.add(name)
        if not isinstance(description, str):
            raise InvalidRequest(log_detail="tool needs a description")
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise InvalidRequest(log_detail="tool parameters must be a JSON Schema object")
        kind = item.get("type", "client_side")
        if kind != "client_side":
            raise InvalidRequest(log_detail="only client_side tools can be defined")
        tool = {"type": "client_side", "name": name, "description": description, "parameters": parameters}
        for optional in ("display_name", "category"):
            if isinstance(item.get(optional), str):
                tool[optional] = item[optional]
        tools.append(tool)
    return tools

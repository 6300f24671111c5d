"""Building the OpenAPI document outside a request (the export command and the sync test)."""

import json
from typing import Any

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.validation import validate_schema


class SchemaWarnings(Exception):
    """drf-spectacular reported warnings or errors: the spec is incomplete somewhere."""


def build_schema(*, fail_on_warn: bool = True) -> dict:
    GENERATOR_STATS.reset()
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    schema = generator.get_schema(request=None, public=True)
    if fail_on_warn and GENERATOR_STATS:
        warnings = sum(GENERATOR_STATS._warn_cache.values())
        errors = sum(GENERATOR_STATS._error_cache.values())
        problems = "; ".join([*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache])
        summary = f"{warnings} warning(s), {errors} error(s): {problems}"
        raise SchemaWarnings(summary)
    validate_schema(schema)
    return schema


def render_schema(schema: dict, fmt: str = "json") -> str:
    if fmt == "yaml":
        return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()
    # Stable, diff-friendly JSON (the committed docs/openapi.json is compared byte for byte).
    return json.dumps(json.loads(OpenApiJsonRenderer().render(schema, renderer_context={})), indent=2) + "\n"


# --------------------------------------------------------------------------- error responses (postprocessing hook)
# Every operation's error answers, documented in one place with the one error body. What a view declares
# itself (extend_schema responses) is kept; this adds what the shared machinery can answer anywhere.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["error", "status"],
    "description": 'The one error body of the API: `{"error": "<safe message>", "status": <HTTP status>}`.',
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# Answers the middleware, authentication, org scoping and the exception handler give on any route.
DEFAULT_ERRORS = {
    "400": "Invalid request (malformed body or query, text no database can store, ...)",
    "503": "Service unavailable: the database is unreachable (Retry-After)",
}
AUTHENTICATED_ERRORS = {
    "401": "Unauthorized: missing or invalid credentials",
    "403": "Forbidden: X-Org-Id names an organization the caller is not a member of, or the role is not enough",
}
PATH_ERRORS = {"404": "Not found: unknown id, or another organization's (indistinguishable)"}
BODY_ERRORS = {
    "415": "Unsupported media type: request bodies are JSON",
    # A body may name other rows (agent_id, session_id, model ids): unknown or another organization's -> 404.
    "404": "Not found: an id in the path or body names nothing in this organization",
}
THROTTLED_ERRORS = {"429": "Too many requests (Retry-After; RateLimit headers on every response)"}

# Extras: answers particular operations give, from their services (method, path regex) -> {status: description}.
EXTRA_ERRORS: list[tuple[str, str, dict[str, str]]] = [
    ("POST|PUT|PATCH", r"^/v1/agents(/\{id\})?$", {"404": "Model not found", "422": "Unknown capability"}),
    ("POST", r"^/v1/agents/(import|preview|\{id\}/copy)$", {"422": "Unknown capability"}),
    ("POST", r"^/v1/sessions$", {"404": "Agent or model not found", "422": "Unknown capability, or no model"}),
    ("PATCH", r"^/v1/sessions/\{id\}$", {"422": "Unknown capability"}),
    (
        "POST",
        r"^/v1/sessions/\{[a-z_]+\}/messages$",
        {"409": "The session is not waiting for input", "422": "No model available"},
    ),
    ("POST", r"^/v1/sessions/\{id\}/cancel$", {"422": "Cannot cancel session: session is not active"}),
    ("POST|PUT", r"^/v1/sessions/\{session_id\}/fs/", {"409": "Path already exists"}),
    ("POST", r"^/v1/(llm-providers|providers)/\{id\}/models$", {"409": "Model already exists"}),
    ("POST|PATCH", r"^/v1/(llm-models|models)(/\{id\})?$", {"409": "Model already exists"}),
    ("POST", r"^/v1/(llm-providers|providers)/\{id\}/sync-models$", {"422": "Provider has no API key, or rejected it"}),
    ("POST", r"^/v1/(llm-providers|providers)(/\{id\}/test-connection)?$", {"422": "Provider address not allowed"}),
    ("POST", r"^/v1/auth/register$", {"409": "Email already registered"}),
    ("POST", r"^/v1/orgs/\{org\}/members$", {"409": "User is already a member of this organization"}),
    (
        "PATCH|DELETE",
        r"^/v1/orgs/\{org\}/members/\{user_id\}$",
        {"409": "An organization must keep at least one admin"},
    ),
]

SSE_FRAME_SCHEMA = {
    "type": "object",
    "description": (
        "One Server-Sent Events frame (docs/streaming.md). `event: connected` first (data "
        '`{"status": "connected"}`), then one frame per stored event (`event` = the event type, `id` = the '
        "event id, usable as Last-Event-ID, `data` = the Event object as JSON), `: heartbeat` comments between "
        'them, and `event: disconnecting` (data `{"reason": "connection_cycle"|"server_shutdown", '
        '"retry_ms": 100}`) before the server closes the stream.'
    ),
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string", "description": "JSON text"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
    "required": ["data"],
}


def _views_by_operation(generator: Any) -> dict[tuple[str, str], Any]:
    views = {}
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        try:
            views[path, method.lower()] = generator.create_view(callback, method)
        except Exception:  # a view that cannot be built outside a request: it gets the defaults only
            continue
    return views


def postprocess_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the error answers of every operation, and the SSE frames."""
    import re

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    views = _views_by_operation(generator)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            view = views.get((path, method))
            errors = dict(DEFAULT_ERRORS)
            if view is None or view.get_authenticators():
                errors.update(AUTHENTICATED_ERRORS)
            if "{" in path:
                errors.update(PATH_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            if view is not None and view.get_throttles():
                errors.update(THROTTLED_ERRORS)
            for methods, pattern, extra in EXTRA_ERRORS:
                if method.upper() in methods.split("|") and re.search(pattern, path):
                    errors.update(extra)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = ERROR_CONTENT
                    response["description"] = response.get("description") or DEFAULT_ERRORS.get(status, "")
            stream = responses.get("200", {}).get("content", {}).get("text/event-stream")
            if stream is not None:
                stream["schema"] = SSE_FRAME_SCHEMA
    return result

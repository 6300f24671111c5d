"""The Idempotency-Key header and its 409/422 answers in the OpenAPI document (a drf-spectacular postprocessing hook).

Every POST and PATCH under /v1 accepts the header (the middleware applies to all of them), so the
document says so once here rather than in each view's extend_schema.
"""

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["error", "status"],
}
HEADER_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Makes a retry safe: the first response is kept for 24 hours per organization, credential and "
    "key and replayed (with `Idempotent-Replayed: true`) for a repeat with the same body (docs/automation.md).",
}
RESPONSES = {
    "409": "A request with this Idempotency-Key is still being processed",
    "422": "Idempotency-Key was already used with a different request",
}


def postprocess_idempotency(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method in ("post", "patch"):
            operation = operations.get(method)
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER_PARAMETER["name"] and p.get("in") == "header" for p in parameters):
                parameters.append(dict(HEADER_PARAMETER))
            responses = operation.setdefault("responses", {})
            for status, description in RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result

"""The one error body of the site: `{"error": "<safe message>", "status": N}` (contract 1.7)."""

from django.http import JsonResponse

STATUS_MESSAGES = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Input exceeds allowed limits",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def message_for_status(status: int) -> str:
    if status in STATUS_MESSAGES:
        return STATUS_MESSAGES[status]
    return "Internal server error" if status >= 500 else "Invalid request"


def error_body(status: int, message: str | None = None) -> dict:
    return {"error": message or message_for_status(status), "status": status}


def error_response(status: int, message: str | None = None) -> JsonResponse:
    # 413 is answered as 400 "Input exceeds allowed limits" (seed error-handling.txt).
    if status == 413:
        status = 400
        message = message or STATUS_MESSAGES[413]
    # Compact separators: byte-identical to the bodies DRF's JSONRenderer produces.
    return JsonResponse(error_body(status, message), status=status, json_dumps_params={"separators": (",", ":")})

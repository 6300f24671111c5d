"""The single DRF exception handler plus the JSON handlers Django uses outside DRF.

Every error becomes `{"error": "<safe message>", "status": N}`. Details (validation errors,
tracebacks) are logged with the request id, never returned.
"""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .errors import error_body, error_response
from .exceptions import ApplicationError

logger = logging.getLogger("everruns.errors")


def _classify(exc: Exception) -> tuple[int, str | None, dict]:
    """Map an exception to (status, safe message or None for the default, extra headers)."""
    if isinstance(exc, ApplicationError):
        if exc.log_detail:
            logger.info("%s %d: %s", type(exc).__name__, exc.status_code, exc.log_detail)
        return exc.status_code, exc.message, {}
    if isinstance(exc, RequestDataTooBig):
        return 400, "Input exceeds allowed limits", {}
    if isinstance(exc, RecursionError):
        # Pathologically nested JSON/YAML bodies exhaust the parser's recursion, not the server.
        logger.info("input nested too deeply")
        return 400, "Invalid request", {}
    if isinstance(exc, drf.ValidationError | DjangoValidationError):
        detail = getattr(exc, "detail", None) or getattr(exc, "messages", None)
        logger.info("validation failed: %s", detail)
        return 400, "Invalid request", {}
    if isinstance(exc, drf.ParseError):
        logger.info("parse error: %s", exc.detail)
        return 400, "Invalid request", {}
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, "Unauthorized", {"WWW-Authenticate": 'Bearer realm="api"'}
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        return 403, "Forbidden", {}
    if isinstance(exc, drf.NotFound | Http404):
        return 404, "Not found", {}
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, "Method not allowed", {}
    if isinstance(exc, drf.NotAcceptable):
        return 406, "Not acceptable", {}
    if isinstance(exc, drf.UnsupportedMediaType):
        return 415, "Unsupported media type", {}
    if isinstance(exc, drf.Throttled):
        # drf-stubs omit Throttled.wait, which DRF always sets in __init__.
        wait = exc.wait  # type: ignore[attr-defined]
        headers = {"Retry-After": str(int(wait))} if wait is not None else {}
        return 429, "Too many requests", headers
    if isinstance(exc, BadRequest | SuspiciousOperation):
        logger.warning("bad request: %s", exc)
        return 400, "Invalid request", {}
    if isinstance(exc, drf.APIException):
        status = exc.status_code
        return status, None, {}
    if isinstance(exc, OperationalError):
        # The database is unreachable or saturated (connection refused, pool exhausted, too many
        # clients): temporary, so 503 with a retry hint rather than a 500.
        logger.error("database unavailable: %s", type(exc.__cause__ or exc).__name__, exc_info=exc)
        return 503, "Service unavailable", {"Retry-After": "1"}
    logger.exception("unhandled exception: %s", type(exc).__name__, exc_info=exc)
    return 500, "Internal server error", {}


def exception_handler(exc: Exception, context: dict) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception raised in a DRF view."""
    status, message, headers = _classify(exc)
    return Response(error_body(status, message), status=status, headers=headers)


def response_for_exception(exc: Exception, context: dict | None = None) -> JsonResponse:
    """The same mapping for plain Django views (used by the middleware's process_exception)."""
    status, message, headers = _classify(exc)
    response = error_response(status, message)
    for key, value in headers.items():
        response[key] = value
    return response


# Django's handler400/403/404/500 (wired in everruns/urls.py).
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404)


def handler500(request: HttpRequest) -> JsonResponse:
    return error_response(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    logger.info("CSRF failure: %s", reason)
    return error_response(403)

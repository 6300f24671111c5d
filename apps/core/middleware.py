"""Request ids, the request-size guard and the last line of defence for the error envelope."""

import json
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from .errors import error_response, message_for_status
from .logcontext import log_context, log_context_bind, log_fields
from .textsafety import query_is_storable

logger = logging.getLogger("everruns.request")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SESSION_ID = re.compile(r"^session_[0-9a-f]{32}$")


def current_request_id() -> str:
    return log_fields().get("request_id", "-")


def release_drf_cycles(response: HttpResponse) -> None:
    """Break the reference cycles DRF leaves behind once its response is rendered.

    DRF links response <-> renderer_context <-> view <-> request <-> parser_context, so everything a
    request touched (its page of rows, their dicts, the view) outlives the request until the cyclic
    garbage collector finds it. That doubles the collector's runs on list endpoints (measured:
    docs/benchmarks.md). Middleware sees the response rendered (Django renders template-style
    responses before the middleware chain unwinds), so nothing reads these links any more; dropping
    them lets reference counting free the request's objects at once. `response.data` stays.
    """
    context = getattr(response, "renderer_context", None)
    if not context:
        return
    response.renderer_context = None  # type: ignore[attr-defined]  # set by DRF's finalize_response; not in drf-stubs
    view = context.get("view")
    request = context.get("request")
    if request is not None:
        request.parser_context = None
    if view is not None:
        view.__dict__.clear()  # request, response, paginator, and a viewset's bound action methods


class RequestWithId(HttpRequest):
    """A request RequestIdMiddleware has stamped (django-stubs' way to type an attribute middleware adds)."""

    request_id: str


class RequestIdMiddleware:
    """Outermost middleware.

    - Every response carries `X-Request-Id` (the client's, when it sent a sane one, else a new one),
      and every log line written while serving the request carries the same id.
    - A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE answers 400 "Input exceeds allowed limits"
      before anything reads it; a path that is not UTF-8, or a query parameter (name or value) holding
      a NUL or a lone surrogate, answers 400 "Invalid request" (the same guard as JSON bodies get).
    - Any error response that is not already JSON (Django's HTML 4xx/5xx pages, the debug pages
      under DEBUG, bare 405s) is rewritten to `{"error", "status"}`: the envelope holds for the whole
      site, whatever produced the error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: RequestWithId) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Every log line of this request carries its id (apps.core.logcontext), and so does its access log line.
        with log_context(request.META, request_id=request_id):
            response = self._guard_request(request) or self.get_response(request)
            response = self._ensure_json_error(request, response)
        response["X-Request-Id"] = request_id
        release_drf_cycles(response)
        return response

    @staticmethod
    def _guard_request(request: HttpRequest) -> HttpResponse | None:
        if request.META.get("everruns.path_not_utf8"):  # set by apps.core.wsgi.RequestAdapter
            logger.info("request path is not valid UTF-8")
            return error_response(400)
        if not query_is_storable(request.GET):
            logger.info("query string contains NUL characters or lone surrogates")
            return error_response(400)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            logger.warning("request body of %d bytes exceeds the limit", length)
            return error_response(400, "Input exceeds allowed limits")
        return None

    @staticmethod
    def _ensure_json_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code < 400 or isinstance(response, StreamingHttpResponse):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            if response.status_code >= 500 and not _is_envelope(response):
                logger.error("non-envelope JSON %d replaced", response.status_code)
                return error_response(response.status_code)
            return response
        replacement = error_response(response.status_code, message_for_status(response.status_code))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict) -> None:
        """A request about one session (/v1/sessions/{id}/…) logs its id."""
        route = getattr(request.resolver_match, "route", "") or ""
        session_id = view_kwargs.get("session_id") or (view_kwargs.get("pk") if "v1/sessions/" in route else None)
        if isinstance(session_id, str) and _SESSION_ID.match(session_id):
            log_context_bind(request.META, session_id=session_id)

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        """Exceptions escaping non-DRF views become the envelope even under DEBUG."""
        from .exception_handler import response_for_exception

        return response_for_exception(exception, context={"request": request})


def _is_envelope(response: HttpResponse) -> bool:
    try:
        body = json.loads(response.content)
    except (ValueError, AttributeError):
        return False
    return isinstance(body, dict) and set(body) == {"error", "status"}

"""IdempotencyKeyMiddleware: `Idempotency-Key` on every POST and PATCH under /v1 (docs/automation.md).

Second in MIDDLEWARE, right inside RequestIdMiddleware: it sees the response every inner layer
(CSRF, DRF, the exception handler) produced, and a replay passes the same outer layer as the
original did, so a client gets the same bytes twice. The caller is authenticated here, ahead of
the view, because the key belongs to an organization and a credential; a request that does not
authenticate passes through untouched and the view answers 401/403 as always.
"""

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from apps.core.errors import error_response
from apps.core.exceptions import ApplicationError
from apps.core.permissions import request_membership

from . import services

logger = logging.getLogger("everruns.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH"})
# The draft leaves the key's syntax to the server: printable ASCII without spaces, like a UUID or a token.
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")

MESSAGES = {
    400: "Invalid Idempotency-Key header",
    409: "A request with this Idempotency-Key is still being processed",
    422: "Idempotency-Key was already used with a different request",
}


def _v1_root() -> str:
    return f"/{settings.API_PREFIX}/v1/" if settings.API_PREFIX else "/v1/"


def _caller(request: HttpRequest) -> tuple[uuid.UUID, str] | None:
    """(organization id, credential) of an authenticated caller; None when the request does not authenticate."""
    authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]  # type: ignore[operator]  # classes once imported
    drf_request = Request(request, authenticators=authenticators)
    try:
        user = drf_request.user
        if user is None or not user.is_authenticated:
            return None
        membership = request_membership(drf_request)
    except (APIException, ApplicationError):
        return None
    auth = drf_request.auth
    api_key_id = getattr(auth, "pk", None) if auth is not None and not isinstance(auth, dict) else None
    credential = f"apikey:{api_key_id}" if api_key_id is not None else f"user:{user.pk}"
    return membership.organization_id, credential


class IdempotencyKeyMiddleware:
    """Keeps the first response per (organization, credential, key) and replays it (services.py has the rules)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith(_v1_root()):
            return self.get_response(request)
        if not _KEY_RE.match(key):
            return error_response(400, MESSAGES[400])
        caller = _caller(request)
        if caller is None:
            return self.get_response(request)
        organization_id, credential = caller
        claim = services.idempotency_claim(
            organization_id=organization_id,
            credential=credential,
            key=key,
            fingerprint=services.fingerprint(method=request.method, path=request.get_full_path(), body=request.body),
        )
        if claim.conflict is not None:
            return error_response(claim.conflict, MESSAGES[claim.conflict])
        if claim.replay is not None:
            return self._replay(claim.replay)
        record = claim.record
        assert record is not None
        try:
            response = self.get_response(request)
        except BaseException:
            services.idempotency_release(record=record)
            raise
        if isinstance(response, StreamingHttpResponse):
            # A stream cannot be kept whole; the key still guards against a concurrent or different repeat.
            services.idempotency_release(record=record)
            return response
        services.idempotency_complete(
            record=record,
            status=response.status_code,
            headers={name: response[name] for name in services.REPLAYED_HEADERS if name in response},
            body=response.content,
        )
        return response

    @staticmethod
    def _replay(record) -> HttpResponse:
        response = HttpResponse(bytes(record.response_body), status=record.response_status)
        for name, value in record.response_headers.items():
            response[name] = value
        response[REPLAYED_HEADER] = "true"
        return response

"""GET /health (contract 2.1) and the catch-all JSON 404."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .errors import error_body, error_response

logger = logging.getLogger("everruns.health")


@extend_schema(
    operation_id="health",
    summary="Service health",
    responses={
        200: inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "version": serializers.CharField(),
                "auth_mode": serializers.CharField(),
                "database": serializers.CharField(),
            },
        )
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """Public liveness + database check. 503 in the error envelope when the database is unreachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        logger.error("health check: database unreachable: %s", type(exc).__name__)
        return Response(error_body(503, "Service unavailable"), status=503)
    return Response({"status": "ok", "version": settings.VERSION, "auth_mode": settings.AUTH_MODE, "database": "ok"})


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown URLs, any method: JSON 404 even with DEBUG on (Django's debug 404 page would otherwise show).

    CSRF-exempt because CsrfViewMiddleware runs on the resolved view before it is called: without the
    exemption a POST/PUT/PATCH/DELETE to an unknown URL would be 403 "Forbidden" instead of 404, and
    clients (the SDK) would report a missing route as a permission error. Nothing here reads or writes.
    """
    return error_response(404)

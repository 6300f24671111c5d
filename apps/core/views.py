"""GET /health (contract 2.1, liveness), GET /ready (readiness) and the catch-all JSON 404."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .errors import error_body, error_response
from .readiness import readiness

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
        ),
        503: OpenApiResponse(description="The database is unreachable"),
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


@extend_schema(
    operation_id="ready",
    summary="Service readiness",
    description=(
        "Readiness for load balancers and Kubernetes readinessProbes: the database answers, every migration is "
        "applied and a task worker has sent a heartbeat recently (READY_REQUIRE_WORKER). 503 in the error "
        "envelope otherwise; the failing check is in the server log. /health stays the liveness check."
    ),
    responses={
        200: inline_serializer(
            "Ready",
            {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.CharField())},
        ),
        503: OpenApiResponse(description="Not ready: a check failed (named in the server log)"),
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def ready(request):
    """Public readiness: 200 {"status": "ok", "checks": {...}}, else 503 {"error": "Service unavailable", ...}."""
    checks = readiness()
    failing = {name: reason for name, reason in checks.items() if reason != "ok"}
    if failing:
        logger.warning("not ready: %s", "; ".join(f"{name}: {reason}" for name, reason in failing.items()))
        return Response(error_body(503, "Service unavailable"), status=503)
    return Response({"status": "ok", "checks": checks})


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown URLs, any method: JSON 404 even with DEBUG on (Django's debug 404 page would otherwise show).

    CSRF-exempt because CsrfViewMiddleware runs on the resolved view before it is called: without the
    exemption a POST/PUT/PATCH/DELETE to an unknown URL would be 403 "Forbidden" instead of 404, and
    clients (the SDK) would report a missing route as a permission error. Nothing here reads or writes.
    """
    return error_response(404)

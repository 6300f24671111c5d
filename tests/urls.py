"""Test-only routes (views that fail on purpose), mounted next to the real URLconf."""

import threading

from django.urls import path
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from apps.core.permissions import IsAdmin
from everruns.urls import urlpatterns as real_urlpatterns


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(min_length=1)


@api_view(["POST"])
def echo(request):
    serializer = EchoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(serializer.validated_data, status=201)


@api_view(["GET", "POST"])
def boom(request):
    raise RuntimeError("secret internals: password=hunter2 at /srv/app/db.py")


@api_view(["GET"])
@permission_classes([IsAdmin])
def admin_only(request):
    return Response({"ok": True})


# POST /v1/_test/gate: signals GATE_ENTERED, then holds the request until a test sets GATE_OPEN (a request
# "still in flight", tests/idempotency).
GATE_ENTERED = threading.Event()
GATE_OPEN = threading.Event()


@api_view(["POST"])
def gate(request):
    GATE_ENTERED.set()
    GATE_OPEN.wait(timeout=30)
    return Response({"passed": request.data.get("n")}, status=201)


def plain_boom(request):
    raise KeyError("plain django view internals")


urlpatterns = [
    path("v1/_test/echo", echo),
    path("v1/_test/boom", boom),
    path("v1/_test/admin-only", admin_only),
    path("v1/_test/gate", gate),
    path("_test/plain-boom", plain_boom),
    *real_urlpatterns,
]

handler400 = "apps.core.exception_handler.handler400"
handler403 = "apps.core.exception_handler.handler403"
handler404 = "apps.core.exception_handler.handler404"
handler500 = "apps.core.exception_handler.handler500"

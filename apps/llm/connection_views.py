"""`/v1/user/connections`: the caller's own provider keys (SDK `connections`: set, list, remove)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import request_user

from . import services
from .models import UserConnection
from .serializers import ConnectionSerializer, ConnectionSetSerializer


class UserConnectionListView(APIView):
    """The caller's own provider connections (never their keys)."""

    @extend_schema(
        responses=inline_serializer(
            "ConnectionList", {"data": ConnectionSerializer(many=True), "total": serializers.IntegerField()}
        )
    )
    def get(self, request):
        """The caller's connections, by provider."""
        rows = UserConnection.objects.filter(user=request_user(request))
        data = ConnectionSerializer(rows, many=True).data
        return Response({"data": data, "total": len(data)})


class UserConnectionView(APIView):
    """Set or remove the caller's own key for a provider type (used by their sessions' turns when the
    organization's provider has no key)."""

    @extend_schema(request=ConnectionSetSerializer, responses={200: ConnectionSerializer})
    def post(self, request, provider: str):
        """Store (or replace) the caller's key for `provider`; it is encrypted and never returned."""
        serializer = ConnectionSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = services.connection_set(
            user=request_user(request), provider=provider, api_key=serializer.validated_data["api_key"]
        )
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(responses={204: None})
    def delete(self, request, provider: str):
        """Forget the caller's key for `provider` (404 when there is none)."""
        services.connection_remove(user=request_user(request), provider=provider)
        return Response(status=status.HTTP_204_NO_CONTENT)

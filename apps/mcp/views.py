"""/v1/mcp-servers (spec tag `mcp-servers`): reads for members, writes for admins (servers carry credentials)."""

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.exceptions import ApplicationError, InvalidRequest
from apps.core.pagination import DataEnvelope
from apps.core.permissions import IsAdminForWrites, OrgScopedMixin, request_organization, user_is_admin
from apps.llm.serializers import ResourceConfigSerializer

from . import client, services
from .models import McpServer
from .serializers import (
    McpServerCreateSerializer,
    McpServerSerializer,
    McpServerToolsSerializer,
    McpServerUpdateSerializer,
)

SERVER_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="MCP server id (`mcp_…`).")
ERROR = OpenApiResponse(description="`{error, status}`")


class McpServerUnreachable(ApplicationError):
    status_code = 502
    default_message = "Could not reach the MCP server"


def _bool_param(request, name: str) -> bool:
    raw = (request.query_params.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise InvalidRequest(log_detail=f"{name} must be a boolean")


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["mcp-servers"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Name or description contains (case-insensitive)."),
            OpenApiParameter("include_archived", bool, description="Include archived servers (default false)."),
        ],
        responses={200: McpServerSerializer(many=True), 400: ERROR},
    ),
    retrieve=extend_schema(parameters=[SERVER_ID], responses={200: McpServerSerializer, 404: ERROR}),
    destroy=extend_schema(parameters=[SERVER_ID], responses={204: None, 403: ERROR, 404: ERROR}),
)
class McpServerViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Remote MCP servers of the caller's organization, whose tools agents can use."""

    queryset = McpServer.objects.exclude(status=McpServer.STATUS_DELETED)
    serializer_class = McpServerSerializer
    permission_classes = [IsAuthenticated, IsAdminForWrites]
    pagination_class = DataEnvelope
    id_prefix = "mcp"
    not_found_message = "MCP server not found"

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        if not _bool_param(self.request, "include_archived"):
            queryset = queryset.exclude(status=McpServer.STATUS_ARCHIVED)
        search = self.request.query_params.get("search")
        if search:
            queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
        return queryset

    @extend_schema(
        request=McpServerCreateSerializer,
        responses={201: McpServerSerializer, 400: ERROR, 403: ERROR, 422: ERROR},
    )
    def create(self, request):
        """Create an MCP server (admin) and list its tools (an unreachable server is created all the same)."""
        server = services.mcp_server_create(
            organization=request_organization(request), **_validated(McpServerCreateSerializer, request)
        )
        return Response(self.get_serializer(server).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SERVER_ID],
        request=McpServerUpdateSerializer,
        responses={200: McpServerSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 422: ERROR},
    )
    def partial_update(self, request, pk=None):
        """Update an MCP server (admin); a new URL or credentials list its tools again."""
        server = services.mcp_server_update(
            server=self.get_object(), data=_validated(McpServerUpdateSerializer, request)
        )
        return Response(self.get_serializer(server).data)

    def perform_destroy(self, instance):
        services.mcp_server_delete(server=instance)

    @extend_schema(
        parameters=[SERVER_ID],
        request=None,
        responses={200: McpServerToolsSerializer, 403: ERROR, 404: ERROR, 502: ERROR},
    )
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """List the server's tools again now (admin) and cache them; 502 when the server cannot be reached."""
        server = self.get_object()
        try:
            services.mcp_server_refresh(server=server)
        except client.McpUnavailable:
            raise McpServerUnreachable() from None
        tools = McpServerSerializer(server, context=self.get_serializer_context()).data["tools"] or []
        return Response({"data": tools, "total": len(tools)})

    @extend_schema(responses={200: ResourceConfigSerializer})
    @action(detail=False, methods=["get"], url_path="config", pagination_class=None)
    def config(self, request):
        """Which MCP server policies the caller satisfies (admins manage servers, members read them)."""
        admin = user_is_admin(request)
        return Response(
            {"policies": {"read": True, "create": admin, "update": admin, "delete": admin, "refresh": admin}}
        )

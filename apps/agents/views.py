"""/v1/agents (contract 2.3): CRUD with upsert and archive, import/export, copy, preview."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from apps.capabilities import registry
from apps.core import ids
from apps.core.exceptions import InvalidRequest, NotFound
from apps.core.pagination import DataEnvelope
from apps.core.permissions import OrgScopedMixin, request_organization

from . import services
from .models import Agent
from .serializers import (
    AgentCreateSerializer,
    AgentPreviewResultSerializer,
    AgentPreviewSerializer,
    AgentSerializer,
    AgentUpdateSerializer,
)

AGENT_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Agent id (`agent_…`)")
IMPORT_MEDIA_TYPES = ("text/plain", "text/markdown", "application/json", "application/yaml", "application/x-yaml")


def markdown_attachment(agent: Agent) -> HttpResponse:
    """The export download (API and admin): UTF-8 Markdown with a slug filename (contract 1.2, 7.1)."""
    markdown, filename = services.agent_export(agent=agent)
    response = HttpResponse(markdown.encode("utf-8"), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class JsonErrorsOnly(BaseContentNegotiation):
    """Export answers Markdown itself; errors must stay JSON whatever the client's Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["agents"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=["active", "archived"], description="Only agents with this status (default: all)."
            )
        ]
    ),
    retrieve=extend_schema(parameters=[AGENT_ID]),
    partial_update=extend_schema(
        parameters=[AGENT_ID], request=AgentUpdateSerializer, responses={200: AgentSerializer}
    ),
    destroy=extend_schema(parameters=[AGENT_ID], responses={204: None}),
)
class AgentViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    """Agents: reusable configurations of a system prompt, a default model and capabilities."""

    queryset = Agent.objects.all()
    serializer_class = AgentSerializer
    pagination_class = DataEnvelope
    id_prefix = "agent"
    not_found_message = "Agent not found"
    lookup_model_field = "public_id"

    def get_queryset(self):
        queryset = super().get_queryset().order_by("-created_at", "-id")
        if self.action == "list":
            wanted = self.request.query_params.get("status")
            if wanted is not None:  # `?status=` (empty) is a bad value like any other, not "no filter"
                if wanted not in (Agent.STATUS_ACTIVE, Agent.STATUS_ARCHIVED):
                    raise InvalidRequest(log_detail=f"bad status filter {wanted!r}"[:100])
                queryset = queryset.filter(status=wanted)
        return queryset

    def _respond(self, agent: Agent, status: int = http.HTTP_200_OK) -> Response:
        return Response(AgentSerializer(agent).data, status=status)

    def list(self, request):
        rows = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AgentSerializer(rows, many=True).data)

    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(
        request=AgentCreateSerializer,
        responses={201: AgentSerializer, 200: OpenApiResponse(AgentSerializer, "Existing id: updated")},
    )
    def create(self, request):
        """Create an agent; with an `id` that already exists in your organization, update it instead (200)."""
        serializer = AgentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        public_id = data.pop("id", None)
        organization = request_organization(request)
        if public_id is None:
            return self._respond(services.agent_create(organization=organization, **data), http.HTTP_201_CREATED)
        agent, created = services.agent_upsert(organization=organization, public_id=public_id, data=data)
        return self._respond(agent, http.HTTP_201_CREATED if created else http.HTTP_200_OK)

    @extend_schema(
        parameters=[AGENT_ID],
        request=AgentCreateSerializer,
        responses={201: AgentSerializer, 200: OpenApiResponse(AgentSerializer, "Updated")},
    )
    def update(self, request, pk=None):
        """Create (201) or fully replace (200) the agent with this id; the path id wins over a body `id`."""
        public_id = ids.parse_id("agent", pk)
        if public_id is None:
            raise NotFound("Agent not found")
        serializer = AgentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("id", None)
        agent, created = services.agent_upsert(
            organization=request_organization(request), public_id=public_id, data=data
        )
        return self._respond(agent, http.HTTP_201_CREATED if created else http.HTTP_200_OK)

    def partial_update(self, request, pk=None):
        agent = self.get_object()
        serializer = AgentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.agent_update(agent=agent, data=dict(serializer.validated_data)))

    def destroy(self, request, pk=None):
        """Archive the agent (soft delete); archived agents stay listed and can be restored with PATCH."""
        services.agent_archive(agent=self.get_object())
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(
        # Any body is accepted: a document that is not an agent mapping falls through to plain text used as the
        # system prompt (contract 7.2), so the schema of every media type is "anything".
        request=dict.fromkeys(IMPORT_MEDIA_TYPES, OpenApiTypes.ANY),
        responses={201: AgentSerializer},
        description=(
            "Create an agent from raw text (at most 3 MiB): Markdown with YAML front matter, JSON, YAML, "
            "or plain text used as the system prompt. Any content type is accepted; the body must be UTF-8."
        ),
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_agent(self, request):
        """Import an agent (contract 7.2); always creates a new agent."""
        # The raw body, whatever the Content-Type: request.data would need a parser per media type.
        try:
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidRequest(log_detail="import body is not UTF-8") from None
        agent = services.agent_import(organization=request_organization(request), text=text)
        return self._respond(agent, http.HTTP_201_CREATED)

    @extend_schema(parameters=[AGENT_ID], responses={(200, "text/markdown"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], content_negotiation_class=JsonErrorsOnly)
    def export(self, request, pk=None):
        """Export the agent as Markdown with YAML front matter (contract 7.1)."""
        return markdown_attachment(self.get_object())

    @extend_schema(parameters=[AGENT_ID], request=None, responses={201: AgentSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """Copy the agent: a new active agent named "<name> (copy)" with the same configuration."""
        return self._respond(services.agent_copy(agent=self.get_object()), http.HTTP_201_CREATED)

    @extend_schema(request=AgentPreviewSerializer, responses={200: AgentPreviewResultSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The system prompt and tools an agent with this configuration would run with; nothing is stored."""
        serializer = AgentPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.agent_check_limits(data)
        refs = registry.normalize_refs(data.get("capabilities") or [])
        resolved = registry.resolve(refs)
        body = {
            "system_prompt": registry.build_system_prompt(refs, data["system_prompt"]),
            "tools": resolved.tool_definitions(),
        }
        return Response(AgentPreviewResultSerializer(body).data)

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
from apps.core.pagination import OptionalPagination, query_bool, search_filter
from apps.core.permissions import OrgScopedMixin, request_organization
from apps.harnesses import resolve
from apps.harnesses.views import RESOURCE_CONFIG

from . import analysis, services, versioning
from .models import Agent, AgentVersion
from .serializers import (
    AgentCreateSerializer,
    AgentPreviewResultSerializer,
    AgentPreviewSerializer,
    AgentSerializer,
    AgentUpdateSerializer,
    AgentVersionSerializer,
    AnalysisSerializer,
    AnalyzeSerializer,
    CheckNameSerializer,
    CreateVersionSerializer,
    ForkVersionSerializer,
    RollbackVersionSerializer,
    SetDefaultVersionSerializer,
    VersionDiffSerializer,
    version_to_dict,
)

AGENT_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Agent id (`agent_…`) or name")
VERSION_ID = OpenApiParameter("version_id", str, OpenApiParameter.PATH, description="Version id (`agentver_…`)")
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
            OpenApiParameter("status", str, enum=["active", "archived"], description="Only agents with this status."),
            OpenApiParameter("include_archived", bool, description="Without `status`: include archived agents."),
            OpenApiParameter(
                "search", str, description="Case-insensitive substring of name, display name, description."
            ),
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
    pagination_class = OptionalPagination
    id_prefix = "agent"
    not_found_message = "Agent not found"
    lookup_model_field = "public_id"

    def get_queryset(self):
        queryset = super().get_queryset().order_by("-created_at", "-id")
        if self.action == "list":
            params = self.request.query_params
            wanted = params.get("status")
            if wanted:  # `?status=` (empty) means no filter, like an absent parameter
                if wanted not in (Agent.STATUS_ACTIVE, Agent.STATUS_ARCHIVED):
                    raise InvalidRequest(log_detail=f"bad status filter {wanted!r}"[:100])
                queryset = queryset.filter(status=wanted)
            elif not query_bool(params, "include_archived"):
                queryset = queryset.filter(status=Agent.STATUS_ACTIVE)
            queryset = search_filter(queryset, params, ("name", "display_name", "description"))
        return queryset

    def get_object(self):
        """By `agent_…` id or, as the spec allows, by name (the active agent of that name)."""
        ref = self.kwargs.get("pk")
        if ids.parse_id("agent", ref) is not None:
            return super().get_object()
        agent = (
            self.get_queryset().filter(name=ref).order_by("status", "-created_at").first()  # "active" < "archived"
            if isinstance(ref, str) and ref and "\x00" not in ref
            else None
        )
        if agent is None:
            raise NotFound("Agent not found")
        self.check_object_permissions(self.request, agent)
        return agent

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
        """Create an agent; with an `id`, or a `name`, of an agent of your organization: replace it instead (200).

        Names are unique per organization (SDK `create` / `apply_by_name` send the same request): a POST
        without `id` whose `name` an active agent already has fully replaces that agent's configuration."""
        serializer = AgentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        public_id = data.pop("id", None)
        organization = request_organization(request)
        if public_id is None:
            agent, created = services.agent_apply(organization=organization, data=data)
        else:
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
        request={media: OpenApiTypes.STR for media in IMPORT_MEDIA_TYPES},
        parameters=[
            OpenApiParameter(
                "from-example", str, description="Import a built-in example by name (the body is ignored)."
            )
        ],
        responses={
            201: AgentSerializer,
            200: OpenApiResponse(AgentSerializer, "from-example: an agent of that name was replaced"),
        },
        description=(
            "Create an agent from raw text (at most 3 MiB): Markdown with YAML front matter, JSON, YAML, "
            "or plain text used as the system prompt. Any content type is accepted; the body must be UTF-8. "
            "With `?from-example=<name>`: the built-in example of that name (404 `Example not found`)."
        ),
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_agent(self, request):
        """Import an agent (contract 7.2); a file always creates a new agent."""
        organization = request_organization(request)
        example = request.query_params.get("from-example")
        if example is not None:
            agent, created = services.agent_import_example(organization=organization, name=example)
            return self._respond(agent, http.HTTP_201_CREATED if created else http.HTTP_200_OK)
        # The raw body, whatever the Content-Type: request.data would need a parser per media type.
        try:
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidRequest(log_detail="import body is not UTF-8") from None
        agent = services.agent_import(organization=organization, text=text)
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

    @extend_schema(request=AnalyzeSerializer, responses={200: AnalysisSerializer})
    @action(detail=False, methods=["post"])
    def analyze(self, request):
        """Advisory checks on an agent shape: deterministic rules, no model call (rules: apps/agents/analysis.py)."""
        serializer = AnalyzeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.agent_check_limits(data)
        mcp = request.data.get("mcpServers") if isinstance(request.data, dict) else None
        findings = analysis.analyze(
            system_prompt=data["system_prompt"],
            capabilities=data.get("capabilities") or [],
            tools=data.get("tools") or [],
            mcp_servers=mcp,
        )
        return Response({"findings": findings})

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, required=True, description="The agent name to check."),
            OpenApiParameter("exclude_id", str, description="An agent id whose own name counts as available."),
        ],
        responses={200: CheckNameSerializer},
    )
    @action(detail=False, methods=["get"], url_path="check-name", url_name="check-name")
    def check_name(self, request):
        """Whether no active agent of your organization has this name."""
        name = request.query_params.get("name")
        if not name or "\x00" in name:
            raise InvalidRequest(log_detail="name is required (and cannot hold NUL)")
        raw_exclude = request.query_params.get("exclude_id")
        exclude = ids.parse_id_or_400("agent", raw_exclude) if raw_exclude else None
        available = services.agent_name_available(
            organization=request_organization(request), name=name, exclude=exclude
        )
        return Response({"available": available})

    @extend_schema(responses={200: RESOURCE_CONFIG})
    @action(detail=False, methods=["get"], url_path="config", url_name="config")
    def config(self, request):
        """What the caller may do with agents (every member manages the organization's agents)."""
        return Response({"policies": {"agent_manage": True}})

    @extend_schema(parameters=[AGENT_ID], responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path="resolved-config", url_name="resolved-config")
    def resolved_config(self, request, pk=None):
        """What the agent resolves to on its harness (harness chain, then the agent): apps.harnesses.resolve."""
        return Response(resolve.agent_config(self.get_object()))

    # -- versions ------------------------------------------------------------------------------------
    def _agent_versions(self, agent: Agent):
        return AgentVersion.objects.filter(agent=agent).order_by("-version_number")

    def _version(self, agent: Agent, version_id: str) -> AgentVersion:
        version = ids.parse_id("agentver", version_id)
        row = self._agent_versions(agent).filter(pk=version).first() if version else None
        if row is None:
            raise NotFound("Version not found")
        row.agent = agent
        return row

    @extend_schema(
        methods=["GET"],
        parameters=[AGENT_ID],
        responses={200: AgentVersionSerializer(many=True)},
        description="The agent's versions, newest first (a bare array).",
    )
    @extend_schema(
        methods=["POST"],
        parameters=[AGENT_ID],
        request=CreateVersionSerializer,
        responses={200: AgentVersionSerializer},
        description="Publish the current configuration (a new version, or the latest one when nothing changed).",
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        agent = self.get_object()
        if request.method == "GET":
            rows = list(self._agent_versions(agent))
            for row in rows:
                row.agent = agent
            return Response([version_to_dict(row) for row in rows])
        serializer = CreateVersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = services.version_publish(
            agent=agent, change_kind=data.get("change_kind"), summary=data.get("summary")
        )
        version.agent = agent
        return Response(version_to_dict(version))

    @extend_schema(parameters=[AGENT_ID], request=SetDefaultVersionSerializer, responses={200: AgentSerializer})
    @action(detail=True, methods=["post"], url_path="versions/default", url_name="version-default")
    def version_default(self, request, pk=None):
        """New sessions of the agent run on this version."""
        agent = self.get_object()
        serializer = SetDefaultVersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = services.version_set_default(agent=agent, version_id=serializer.validated_data["version_id"])
        return self._respond(agent)

    @extend_schema(parameters=[AGENT_ID, VERSION_ID], responses={200: AgentVersionSerializer})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version_id>[^/.]+)", url_name="version-detail")
    def version_detail(self, request, pk=None, version_id=None):
        return Response(version_to_dict(self._version(self.get_object(), version_id)))

    @extend_schema(
        parameters=[
            AGENT_ID,
            OpenApiParameter("from_version_id", str, OpenApiParameter.PATH),
            OpenApiParameter("to_version_id", str, OpenApiParameter.PATH),
        ],
        responses={200: VersionDiffSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<from_version_id>[^/.]+)/diff/(?P<to_version_id>[^/.]+)",
        url_name="version-diff",
    )
    def version_diff(self, request, pk=None, from_version_id=None, to_version_id=None):
        """Field by field: `{field: {from, to}}` for the authored and the resolved configuration."""
        agent = self.get_object()
        before, after = self._version(agent, from_version_id), self._version(agent, to_version_id)
        return Response(
            {
                "from_version_id": ids.format_id("agentver", before.pk),
                "to_version_id": ids.format_id("agentver", after.pk),
                "authored_diff": versioning.diff(before.authored_config, after.authored_config),
                "resolved_diff": versioning.diff(before.resolved_config, after.resolved_config),
            }
        )

    @extend_schema(parameters=[AGENT_ID, VERSION_ID], request=ForkVersionSerializer, responses={200: AgentSerializer})
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<version_id>[^/.]+)/fork", url_name="version-fork")
    def version_fork(self, request, pk=None, version_id=None):
        """A new agent with this version's configuration (forked_from_* point back here)."""
        agent = self.get_object()
        serializer = ForkVersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        forked = services.version_fork(agent=agent, version_id=version_id, **serializer.validated_data)
        return self._respond(forked)

    @extend_schema(
        parameters=[AGENT_ID, VERSION_ID], request=RollbackVersionSerializer, responses={200: AgentSerializer}
    )
    @action(
        detail=True, methods=["post"], url_path=r"versions/(?P<version_id>[^/.]+)/rollback", url_name="version-rollback"
    )
    def version_rollback(self, request, pk=None, version_id=None):
        """Restore the agent's configuration from this version (recorded as a `rollback` version)."""
        agent = self.get_object()
        serializer = RollbackVersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = services.version_rollback(agent=agent, version_id=version_id, **serializer.validated_data)
        return self._respond(agent)

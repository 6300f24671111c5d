"""/v1/skills (spec tag `skills`): members of the organization manage its skills."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.core.exceptions import InvalidRequest
from apps.core.pagination import DataEnvelope
from apps.core.permissions import OrgScopedMixin, request_organization
from apps.llm.serializers import ResourceConfigSerializer

from . import services, skillmd
from .models import Skill
from .serializers import (
    SkillContentSerializer,
    SkillCreateSerializer,
    SkillSerializer,
    SkillUpdateSerializer,
    SkillValidationSerializer,
)

# `{skill_…: SkillUsage}`: a map (a raw schema: a serializer cannot describe arbitrary keys).
SKILL_USAGE_MAP = {
    "type": "object",
    "description": "Keyed by skill id (`skill_…`); unused skills are omitted.",
    "additionalProperties": {
        "type": "object",
        "properties": {"agents": {"type": "integer", "minimum": 0}, "harnesses": {"type": "integer", "minimum": 0}},
        "required": ["agents", "harnesses"],
    },
}
SKILL_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Skill id (`skill_…`).")
ERROR = OpenApiResponse(description="`{error, status}`")


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["skills"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Name or description contains (case-insensitive)."),
            OpenApiParameter("include_archived", bool, description="Include archived skills (default false)."),
        ],
        responses={200: SkillSerializer(many=True), 400: ERROR},
    ),
    retrieve=extend_schema(parameters=[SKILL_ID], responses={200: SkillSerializer, 404: ERROR}),
    destroy=extend_schema(parameters=[SKILL_ID], responses={204: None, 404: ERROR}),
)
class SkillViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Skills: SKILL.md instructions plus files that agents load when they need them."""

    queryset = Skill.objects.exclude(status=Skill.STATUS_DELETED)
    serializer_class = SkillSerializer
    pagination_class = DataEnvelope
    id_prefix = "skill"
    not_found_message = "Skill not found"

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        raw = (self.request.query_params.get("include_archived") or "").strip().lower()
        if raw not in ("", "true", "false", "1", "0"):
            raise InvalidRequest(log_detail="include_archived must be a boolean")
        if raw not in ("true", "1"):
            queryset = queryset.exclude(status=Skill.STATUS_ARCHIVED)
        search = self.request.query_params.get("search")
        if search:
            queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
        return queryset

    @extend_schema(request=SkillCreateSerializer, responses={201: SkillSerializer, 400: ERROR, 409: ERROR, 422: ERROR})
    def create(self, request):
        """Create a skill from SKILL.md content."""
        skill = services.skill_create(
            organization=request_organization(request), **_validated(SkillCreateSerializer, request)
        )
        return Response(self.get_serializer(skill).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SKILL_ID],
        request=SkillUpdateSerializer,
        responses={200: SkillSerializer, 400: ERROR, 404: ERROR, 409: ERROR, 422: ERROR},
    )
    def partial_update(self, request, pk=None):
        """Update a skill: a new SKILL.md makes a new version (the old one is kept), or a new status."""
        skill = services.skill_update(skill=self.get_object(), **_validated(SkillUpdateSerializer, request))
        return Response(self.get_serializer(skill).data)

    def perform_destroy(self, instance):
        services.skill_delete(skill=instance)

    @extend_schema(parameters=[SKILL_ID], responses={200: SkillContentSerializer, 404: ERROR})
    @action(detail=True, methods=["get"])
    def content(self, request, pk=None):
        """The skill's SKILL.md and files."""
        skill = self.get_object()
        return Response({"skill_md": skill.skill_md, "files": skill.files})

    @extend_schema(
        request={"application/zip": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.BINARY},
        responses={201: SkillSerializer, 400: ERROR, 409: ERROR, 413: ERROR, 422: ERROR},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request):
        """Create a skill from a ZIP archive (SKILL.md at its root or in one top folder; other files UTF-8 text).
        The body is the archive itself, or a multipart form with one file."""
        if request.content_type.startswith("multipart/"):
            upload = next(iter(request.FILES.values()), None)
            if upload is None:
                raise InvalidRequest(log_detail="multipart upload without a file")
            if upload.size > services.MAX_ARCHIVE_BYTES:
                raise services.ArchiveTooLarge()
            data = upload.read()
        else:
            data = request.body
        skill = services.skill_upload(organization=request_organization(request), data=data)
        return Response(self.get_serializer(skill).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SkillCreateSerializer, responses={200: SkillValidationSerializer, 400: ERROR})
    @action(detail=False, methods=["post"])
    def validate(self, request):
        """Check a SKILL.md without storing it: errors make it invalid, warnings do not."""
        parsed = skillmd.parse(_validated(SkillCreateSerializer, request)["skill_md"])
        return Response(
            {
                "valid": parsed.valid,
                "name": parsed.name,
                "description": parsed.description,
                "errors": parsed.errors,
                "warnings": parsed.warnings,
            }
        )

    @extend_schema(responses={200: SKILL_USAGE_MAP})
    @action(detail=False, methods=["get"], pagination_class=None)
    def usage(self, request):
        """How many agents (and harnesses) reference each skill, keyed by skill id; unused skills are omitted."""
        return Response(services.skills_usage(organization=request_organization(request)))

    @extend_schema(responses={200: ResourceConfigSerializer})
    @action(detail=False, methods=["get"], url_path="config", pagination_class=None)
    def config(self, request):
        """Which skill policies the caller satisfies (every member manages the organization's skills)."""
        return Response({"policies": dict.fromkeys(("read", "create", "update", "delete", "upload"), True)})

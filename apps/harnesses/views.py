"""/v1/harnesses and /v1/harness-examples (spec tag `harnesses`)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.pagination import OptionalPagination, query_bool, search_filter
from apps.core.permissions import OrgScopedMixin, request_organization

from . import examples, services
from .models import Harness
from .serializers import HarnessExampleSerializer, HarnessSerializer, HarnessWriteSerializer

RESOURCE_CONFIG = inline_serializer(
    "ResourceConfigResponse",
    fields={"policies": serializers.DictField(child=serializers.BooleanField(), help_text="policy id -> allowed")},
)
HARNESS_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Harness id (`harness_…`) or name")
WRITE_FIELDS = tuple(HarnessWriteSerializer().fields)
LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="Case-insensitive substring of the name, display name or description."),
    OpenApiParameter("include_archived", bool, description="Include archived harnesses (default false)."),
]


def body_fields(request, allowed: tuple[str, ...]) -> dict:
    """The known keys of a JSON object body (unknown keys are ignored, as the SDK's models allow)."""
    if not isinstance(request.data, dict):
        raise InvalidRequest(log_detail="body must be a JSON object")
    return {key: request.data[key] for key in allowed if key in request.data}


@extend_schema(tags=["harnesses"])
@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS, responses={200: HarnessSerializer(many=True)}),
    retrieve=extend_schema(parameters=[HARNESS_ID], responses={200: HarnessSerializer}),
    create=extend_schema(request=HarnessWriteSerializer, responses={201: HarnessSerializer}),
    partial_update=extend_schema(
        parameters=[HARNESS_ID], request=HarnessWriteSerializer, responses={200: HarnessSerializer}
    ),
    destroy=extend_schema(parameters=[HARNESS_ID], responses={204: None}),
    copy=extend_schema(parameters=[HARNESS_ID], request=None, responses={201: HarnessSerializer}),
)
class HarnessViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    """Harnesses: base configurations that agents and sessions layer on. The built-in `generic` is read-only."""

    queryset = Harness.objects.all()
    serializer_class = HarnessSerializer
    pagination_class = OptionalPagination
    id_prefix = "harness"
    not_found_message = services.NOT_FOUND

    def get_queryset(self):
        queryset = super().get_queryset().order_by("created_at", "id")
        if self.action == "list":
            params = self.request.query_params
            if not query_bool(params, "include_archived"):
                queryset = queryset.filter(status=Harness.STATUS_ACTIVE)
            queryset = search_filter(queryset, params, ("name", "display_name", "description"))
        return queryset

    def get_object(self):
        harness = services.harness_get(organization=request_organization(self.request), ref=self.kwargs.get("pk"))
        self.check_object_permissions(self.request, harness)
        return harness

    def _respond(self, harness: Harness, status: int = http.HTTP_200_OK) -> Response:
        return Response(HarnessSerializer(harness).data, status=status)

    def list(self, request):
        rows = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(HarnessSerializer(rows, many=True).data)

    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    def create(self, request):
        harness = services.harness_create(
            organization=request_organization(request), data=body_fields(request, WRITE_FIELDS)
        )
        return self._respond(harness, http.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        harness = services.harness_update(harness=self.get_object(), data=body_fields(request, WRITE_FIELDS))
        return self._respond(harness)

    def destroy(self, request, pk=None):
        """Archive the harness (soft delete); agents and sessions on it keep running."""
        services.harness_archive(harness=self.get_object())
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[OpenApiParameter("from-example", str, required=True, description="A harness example's name.")],
        request=None,
        responses={201: HarnessSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_example(self, request):
        """Adopt a harness example as a normal harness of your organization (its parent: `generic`)."""
        name = request.query_params.get("from-example")
        if not name:
            raise InvalidRequest(log_detail="from-example is required")
        harness = services.harness_import_example(organization=request_organization(request), name=name)
        return self._respond(harness, http.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, required=True),
            OpenApiParameter("exclude_id", str, description="A harness id whose own name counts as available."),
        ],
        responses={200: inline_serializer("CheckNameResponse", fields={"available": serializers.BooleanField()})},
    )
    @action(detail=False, methods=["get"], url_path="check-name", url_name="check-name")
    def check_name(self, request):
        """Whether no harness of your organization has this name (names stay taken while archived)."""
        name = request.query_params.get("name")
        if not name or "\x00" in name:
            raise InvalidRequest(log_detail="name is required")
        raw = request.query_params.get("exclude_id")
        exclude = ids.parse_id_or_400("harness", raw) if raw else None
        return Response(
            {
                "available": services.harness_name_available(
                    organization=request_organization(request), name=name, exclude=exclude
                )
            }
        )

    @extend_schema(responses={200: RESOURCE_CONFIG})
    @action(detail=False, methods=["get"], url_path="config", url_name="config")
    def config(self, request):
        """What the caller may do with harnesses (UIs gate their buttons on it)."""
        return Response({"policies": {"harness_manage": True, "harness_built_in_edit": False}})

    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """A writable copy named `<name>-copy` (also of the built-in `generic`)."""
        return self._respond(services.harness_copy(harness=self.get_object()), http.HTTP_201_CREATED)


class HarnessExampleListView(APIView):
    """GET /v1/harness-examples: the read-only examples defined in code (a bare array)."""

    @extend_schema(tags=["harnesses"], responses={200: HarnessExampleSerializer(many=True)})
    def get(self, request):
        return Response(examples.HARNESS_EXAMPLES)

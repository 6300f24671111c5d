"""/v1/providers and /v1/models (published spec) and their older twins /v1/llm-providers and /v1/llm-models
(contract 2.8, 2.9): reads for members, mutations for admins.

One implementation: the /v1/llm-* viewsets name their serializers and envelope as class attributes, and the
spec viewsets subclass them with the spec's shapes, optional paging and `?search`.
"""

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.exceptions import InvalidRequest
from apps.core.pagination import DataEnvelope, OptionalPagination
from apps.core.permissions import IsAdminForWrites, OrgScopedMixin, request_organization, user_is_admin

from . import selectors, services
from .models import LlmModel, LlmProvider
from .serializers import (
    LlmModelCreateSerializer,
    LlmModelSerializer,
    LlmModelUpdateSerializer,
    LlmModelWithProviderSerializer,
    LlmProviderCreateSerializer,
    LlmProviderSerializer,
    LlmProviderUpdateSerializer,
    ModelCreateSerializer,
    ModelSerializer,
    ModelUpdateSerializer,
    ModelWithProviderSerializer,
    ProvidersConfigSerializer,
    ProviderSerializer,
    ResourceConfigSerializer,
    SyncModelsSerializer,
)

SOURCES = [value for value, _ in LlmModel.SOURCES]
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

MODEL_FILTERS = [
    OpenApiParameter("source", str, enum=SOURCES, description="Only models of this source."),
    OpenApiParameter(
        "include_stale", bool, default=True, description="Include discovered models the last sync did not return."
    ),
    OpenApiParameter("favorites_only", bool, default=False, description="Only favourite models."),
]
LlmModelList = inline_serializer(
    "LlmModelList", {"data": LlmModelSerializer(many=True), "total": serializers.IntegerField()}
)


def _bool_param(request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidRequest(log_detail=f"{name} must be a boolean")


def filter_models(request, queryset):
    """Apply ?source, ?include_stale (default true), ?favorites_only (default false) and ?search (model_id or
    display name contains, case-insensitive); bad values -> 400."""
    search = request.query_params.get("search")
    if search:
        queryset = queryset.filter(Q(model_id__icontains=search) | Q(display_name__icontains=search))
    source = request.query_params.get("source")
    if source is not None:  # `?source=` (empty) is a bad value, not "no filter"
        if source not in SOURCES:
            raise InvalidRequest(log_detail="unknown model source")
        queryset = queryset.filter(source=source)
    if not _bool_param(request, "include_stale", True):
        queryset = queryset.filter(is_stale=False)
    if _bool_param(request, "favorites_only", False):
        queryset = queryset.filter(is_favorite=True)
    return queryset


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


PROVIDER_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Provider id (`provider_…`).")
MODEL_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Model id (`model_…`).")


@extend_schema_view(
    retrieve=extend_schema(parameters=[PROVIDER_ID]),
    destroy=extend_schema(parameters=[PROVIDER_ID], responses={204: None}),
)
class LlmProviderViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """LLM providers of the caller's organization. The API key is write-only: only `api_key_set` is shown."""

    queryset = LlmProvider.objects.all()
    serializer_class = LlmProviderSerializer
    model_serializer_class: type[LlmModelSerializer] = LlmModelSerializer
    model_create_serializer_class: type[LlmModelCreateSerializer] = LlmModelCreateSerializer
    permission_classes = [IsAuthenticated, IsAdminForWrites]
    pagination_class: type[BasePagination] | None = DataEnvelope
    id_prefix = "provider"
    not_found_message = "Provider not found"

    @extend_schema(request=LlmProviderCreateSerializer, responses={201: LlmProviderSerializer})
    def create(self, request):
        """Create a provider (admin). 400 when an api_key is given but no encryption key is configured."""
        provider = services.llm_provider_create(
            organization=request_organization(request), **_validated(LlmProviderCreateSerializer, request)
        )
        return Response(self.get_serializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[PROVIDER_ID], request=LlmProviderUpdateSerializer, responses=LlmProviderSerializer)
    def partial_update(self, request, pk=None):
        """Update a provider (admin). `api_key: null` or `""` removes the stored key."""
        provider = self.get_object()
        data = _validated(LlmProviderUpdateSerializer, request)
        provider = services.llm_provider_update(provider=provider, data=data)
        return Response(self.get_serializer(provider).data)

    def perform_destroy(self, instance):
        services.llm_provider_delete(provider=instance)

    @extend_schema(parameters=[PROVIDER_ID], request=None, responses=SyncModelsSerializer)
    @action(detail=True, methods=["post"], url_path="sync-models")
    def sync_models(self, request, pk=None):
        """List the provider's models through its official SDK and reconcile them (admin).

        422 when the provider has or accepts no API key, 502 when it cannot be reached or fails.
        """
        return Response(services.llm_provider_sync_models(provider=self.get_object()))

    @extend_schema(
        methods=["GET"],
        operation_id="llm_providers_models_list",
        parameters=[PROVIDER_ID, *MODEL_FILTERS],
        responses=LlmModelList,
    )
    @extend_schema(
        methods=["POST"],
        parameters=[PROVIDER_ID],
        request=LlmModelCreateSerializer,
        responses={201: LlmModelSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="models")
    def provider_models(self, request, pk=None):
        """GET: the provider's models (same filters as the models list). POST: add one (admin)."""
        provider = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            model = services.llm_model_create(
                provider=provider, **_validated(self.model_create_serializer_class, request)
            )
            return Response(self.model_serializer_class(model, context=context).data, status=status.HTTP_201_CREATED)
        rows = self.paginate_queryset(filter_models(request, provider.models.all()))
        return self.get_paginated_response(self.model_serializer_class(rows, many=True, context=context).data)


@extend_schema_view(
    list=extend_schema(parameters=MODEL_FILTERS),
    retrieve=extend_schema(parameters=[MODEL_ID]),
    destroy=extend_schema(parameters=[MODEL_ID], responses={204: None}),
)
class LlmModelViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Every LLM model of the caller's organization, with its provider's name/type and catalogue profile."""

    queryset = LlmModel.objects.select_related("provider")
    serializer_class = LlmModelWithProviderSerializer
    permission_classes = [IsAuthenticated, IsAdminForWrites]
    pagination_class: type[BasePagination] | None = DataEnvelope
    id_prefix = "model"
    not_found_message = "Model not found"

    update_serializer_class: type[LlmModelUpdateSerializer] = LlmModelUpdateSerializer
    output_serializer_class: type[LlmModelSerializer] = LlmModelSerializer

    def filter_queryset(self, queryset):
        if self.action == "list":
            return filter_models(self.request, queryset)
        return queryset

    @extend_schema(parameters=[MODEL_ID], request=LlmModelUpdateSerializer, responses=LlmModelSerializer)
    def partial_update(self, request, pk=None):
        """Update a model (admin); `is_default: true` moves the provider's default to this model."""
        model = self.get_object()
        model = services.llm_model_update(model=model, data=_validated(self.update_serializer_class, request))
        return Response(self.output_serializer_class(model, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.llm_model_delete(model=instance)


# --------------------------------------------------------------------------- /v1/providers and /v1/models
SEARCH = OpenApiParameter("search", str, description="Only rows whose name contains this (case-insensitive).")
MODEL_SEARCH = OpenApiParameter(
    "search", str, description="Only models whose model_id or display name contains this (case-insensitive)."
)
PAGE = [
    OpenApiParameter("offset", int, description="Items to skip (>= 0). Giving `offset` or `limit` pages the list."),
    OpenApiParameter("limit", int, description="Page size, 1..100 (clamped). Without offset and limit: every item."),
]
ModelList = inline_serializer(
    "ModelList",
    {
        "data": ModelSerializer(many=True),
        "total": serializers.IntegerField(),
        "offset": serializers.IntegerField(required=False),
        "limit": serializers.IntegerField(required=False),
    },
)


@extend_schema_view(
    list=extend_schema(parameters=[SEARCH]),
    create=extend_schema(request=LlmProviderCreateSerializer, responses={201: ProviderSerializer}),
    partial_update=extend_schema(
        parameters=[PROVIDER_ID], request=LlmProviderUpdateSerializer, responses=ProviderSerializer
    ),
    provider_models=[
        extend_schema(
            methods=["GET"],
            operation_id="providers_models_list",
            parameters=[PROVIDER_ID, *MODEL_FILTERS, MODEL_SEARCH, *PAGE],
            responses=ModelList,
        ),
        extend_schema(
            methods=["POST"], parameters=[PROVIDER_ID], request=ModelCreateSerializer, responses={201: ModelSerializer}
        ),
    ],
)
class ProviderViewSet(LlmProviderViewSet):
    """LLM providers (published spec, tag `providers`): `/v1/llm-providers` with the spec's shape (links,
    `trace`), optional paging and `?search` on the name. The API key is write-only: only `api_key_set`."""

    serializer_class = ProviderSerializer
    model_serializer_class = ModelSerializer
    model_create_serializer_class = ModelCreateSerializer
    pagination_class = OptionalPagination

    def filter_queryset(self, queryset):
        search = self.request.query_params.get("search")
        if self.action == "list" and search:
            queryset = queryset.filter(name__icontains=search)
        return queryset

    @extend_schema(operation_id="providers_config", responses=ProvidersConfigSerializer)
    @action(detail=False, methods=["get"])
    def config(self, request):
        """What the caller may do with providers (`llm_provider_manage`: create, change, delete) and the
        credential form of every provider type."""
        policies = {selectors.MANAGE_POLICY: user_is_admin(request)}
        return Response({"policies": policies, "drivers": selectors.provider_drivers()})


@extend_schema_view(
    list=extend_schema(parameters=[*MODEL_FILTERS, MODEL_SEARCH]),
    partial_update=extend_schema(parameters=[MODEL_ID], request=ModelUpdateSerializer, responses=ModelSerializer),
)
class ModelViewSet(LlmModelViewSet):
    """Every LLM model of the caller's organization (published spec, tag `models`, SDK `client.models`), with
    its provider, catalogue profile, vendor and `healthy`; optional paging and `?search`."""

    serializer_class = ModelWithProviderSerializer
    update_serializer_class = ModelUpdateSerializer
    output_serializer_class = ModelSerializer
    pagination_class = OptionalPagination

    @extend_schema(operation_id="models_config", responses=ResourceConfigSerializer)
    @action(detail=False, methods=["get"])
    def config(self, request):
        """What the caller may do with models (`llm_provider_manage`: add, change, delete them)."""
        return Response({"policies": {selectors.MANAGE_POLICY: user_is_admin(request)}})

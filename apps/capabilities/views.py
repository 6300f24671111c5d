"""GET /v1/capabilities and GET /v1/capabilities/{id} (contract 2.7)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from apps.core.exceptions import NotFound
from apps.core.pagination import ItemsOptionalPagination

from . import registry
from .serializers import CapabilityDetailSerializer, CapabilitySerializer


@extend_schema(tags=["capabilities"])
@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("search", str, description="Case-insensitive substring of id, name, description.")]
    )
)
class CapabilityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Built-in capabilities: what an agent can be given (prompt additions and tools)."""

    pagination_class = ItemsOptionalPagination
    # Capability ids are snake_case or `mcp:<server id>`: anything but a slash.
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        capabilities = registry.all_capabilities()
        term = (self.request.query_params.get("search") or "").casefold()
        if self.action == "list" and term:
            capabilities = [
                c for c in capabilities if term in c.id.casefold() or term in f"{c.name} {c.description}".casefold()
            ]
        return capabilities

    def get_serializer_class(self):
        return CapabilityDetailSerializer if self.action == "retrieve" else CapabilitySerializer

    def get_object(self):
        capability = registry.get_capability(self.kwargs["pk"])
        if capability is None:
            raise NotFound("Capability not found")
        return capability

    @extend_schema(parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="Capability id")])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

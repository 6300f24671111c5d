"""/v1/task-webhooks: subscriptions, secret rotation, the delivery log and redelivery (admins only, as the spec)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.pagination import DataEnvelope, SessionPagination
from apps.core.permissions import IsAdmin, OrgScopedMixin, request_organization
from apps.core.scoping import get_in_org
from apps.sessions.models import Session

from . import services
from .models import Webhook, WebhookDelivery
from .serializers import (
    DEFAULT_EVENT_TYPES,
    WebhookCreateSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
    WebhookWithSecretSerializer,
)

WEBHOOK_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Webhook id (`wh_…`).")
DELIVERY_ID = OpenApiParameter("delivery_id", str, OpenApiParameter.PATH, description="Delivery id (`msg_…`).")
NOT_FOUND = OpenApiResponse(description="Webhook not found")
ADDRESS = OpenApiResponse(description="Webhook url points to a private or local network address")


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    retrieve=extend_schema(parameters=[WEBHOOK_ID], responses={200: WebhookSerializer, 404: NOT_FOUND}),
    destroy=extend_schema(parameters=[WEBHOOK_ID], responses={204: None, 404: NOT_FOUND}),
)
class WebhookViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Webhooks of the caller's organization (organization-wide, or for one session). Admins only."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, IsAdmin]
    pagination_class = DataEnvelope
    id_prefix = "wh"
    not_found_message = "Webhook not found"

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookWithSecretSerializer, 422: ADDRESS})
    def create(self, request):
        """Create a webhook. The answer carries its signing secret (`whsec_…`): the only time it is shown."""
        data = _validated(WebhookCreateSerializer, request)
        organization = request_organization(request)
        session = None
        if data.get("session_id") is not None:
            session = get_in_org(
                Session, organization=organization, not_found="Session not found", pk=data["session_id"]
            )
        webhook, secret = services.webhook_create(
            organization=organization,
            url=data["url"],
            event_types=data.get("event_types") or list(DEFAULT_EVENT_TYPES),
            enabled=data["enabled"],
            secret=data.get("secret"),
            session=session,
        )
        body = WebhookWithSecretSerializer(webhook, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[WEBHOOK_ID],
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer, 404: NOT_FOUND, 422: ADDRESS},
    )
    def partial_update(self, request, pk=None):
        """Change url, enabled, event types or secret. Enabling a disabled webhook clears its failure count."""
        webhook = services.webhook_update(webhook=self.get_object(), **_validated(WebhookUpdateSerializer, request))
        return Response(WebhookSerializer(webhook).data)

    def perform_destroy(self, instance: Webhook) -> None:
        services.webhook_delete(webhook=instance)

    @extend_schema(parameters=[WEBHOOK_ID], request=None, responses={200: WebhookWithSecretSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret (shown once); the old one keeps signing alongside it for a grace period."""
        webhook, secret = services.webhook_secret_rotate(webhook=self.get_object())
        return Response(WebhookWithSecretSerializer(webhook, context={"secret": secret}).data)

    @extend_schema(
        parameters=[WEBHOOK_ID, OpenApiParameter("status", str, enum=[s for s, _ in WebhookDelivery.STATUSES])],
        responses={200: WebhookDeliverySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], pagination_class=SessionPagination)
    def deliveries(self, request, pk=None):
        """The delivery log of this webhook, newest first (paged: offset / limit)."""
        queryset = WebhookDelivery.objects.filter(webhook=self.get_object())
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in {value for value, _ in WebhookDelivery.STATUSES}:
                raise InvalidRequest(log_detail=f"unknown delivery status {wanted!r}"[:200])
            queryset = queryset.filter(status=wanted)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        parameters=[WEBHOOK_ID, DELIVERY_ID],
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            404: OpenApiResponse(description="Delivery not found"),
            422: OpenApiResponse(description="Webhook is disabled; enable it before redelivering"),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/]+)/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        """Send a delivery again now, with the same `webhook-id` (receivers deduplicate on it)."""
        webhook = self.get_object()
        delivery = get_in_org(
            WebhookDelivery.objects.filter(webhook=webhook),
            organization=webhook.organization_id,
            organization_field="webhook__organization",
            not_found="Delivery not found",
            pk=ids.parse_id("msg", delivery_id),
        )
        delivery = services.delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

"""/v1/durable/schedules and /v1/durable/executions (published spec `durable-schedules`): members of the
organization read and write its schedules, as they do its sessions."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.exceptions import InvalidRequest
from apps.core.pagination import SessionPagination
from apps.core.permissions import OrgScopedMixin, request_organization

from . import services
from .models import Schedule, ScheduleRun
from .serializers import (
    ScheduleCreateSerializer,
    ScheduleRunSerializer,
    ScheduleSerializer,
    ScheduleStatsSerializer,
    ScheduleUpdateSerializer,
    TriggerResponseSerializer,
)

SCHEDULE_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Schedule id (`sched_…`).")
EXECUTION_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="Execution id (`schedrun_…`).")
NOT_FOUND = OpenApiResponse(description="Schedule not found")
_BOOLEANS = {"true": True, "false": False}


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _service_arguments(data: dict) -> dict:
    """The serializer's names (the spec's) -> the services' keyword arguments."""
    data = dict(data)
    if "timezone" in data:
        data["timezone_name"] = data.pop("timezone")
    target = data.pop("target", None)
    if target is not None:
        data["target_name"], data["target_input"] = target["name"], target["input"]
    return data


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("enabled", bool, description="Only enabled (true) or paused (false) schedules."),
            OpenApiParameter("target_type", str, description="Only schedules with this target name (`agent.run`…)."),
        ]
    ),
    retrieve=extend_schema(parameters=[SCHEDULE_ID], responses={200: ScheduleSerializer, 404: NOT_FOUND}),
    destroy=extend_schema(parameters=[SCHEDULE_ID], responses={204: None, 404: NOT_FOUND}),
)
class ScheduleViewSet(
    OrgScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Durable schedules of the caller's organization: cron or interval, in a time zone, run by the task workers."""

    queryset = Schedule.objects.all()
    serializer_class = ScheduleSerializer
    pagination_class = SessionPagination
    id_prefix = "sched"
    not_found_message = "Schedule not found"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        enabled = self.request.query_params.get("enabled")
        if enabled:
            if enabled not in _BOOLEANS:
                raise InvalidRequest(log_detail="enabled must be true or false")
            queryset = queryset.filter(enabled=_BOOLEANS[enabled])
        target_type = self.request.query_params.get("target_type")
        if target_type:
            queryset = queryset.filter(target_name=target_type)
        return queryset

    @extend_schema(
        request=ScheduleCreateSerializer,
        responses={201: ScheduleSerializer, 409: OpenApiResponse(description="Schedule name already exists")},
    )
    def create(self, request):
        """Create a schedule; `next_trigger_at` / `next_run_at` say when it first fires."""
        schedule = services.schedule_create(
            organization=request_organization(request),
            **_service_arguments(_validated(ScheduleCreateSerializer, request)),
        )
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SCHEDULE_ID], request=ScheduleUpdateSerializer, responses={200: ScheduleSerializer, 404: NOT_FOUND}
    )
    def partial_update(self, request, pk=None):
        """Change a schedule; a new timing or time zone recomputes the next run from now."""
        data = _service_arguments(_validated(ScheduleUpdateSerializer, request))
        schedule = services.schedule_update(schedule=self.get_object(), **data)
        return Response(ScheduleSerializer(schedule).data)

    def perform_destroy(self, instance: Schedule) -> None:
        services.schedule_delete(schedule=instance)

    @extend_schema(parameters=[SCHEDULE_ID], request=None, responses={200: ScheduleSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Stop firing (`enabled: false`, no next run) until resumed."""
        return Response(ScheduleSerializer(services.schedule_pause(schedule=self.get_object())).data)

    @extend_schema(parameters=[SCHEDULE_ID], request=None, responses={200: ScheduleSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Fire again from the next due time (with catch_up_missed: the runs missed while paused first)."""
        return Response(ScheduleSerializer(services.schedule_resume(schedule=self.get_object())).data)

    @extend_schema(parameters=[SCHEDULE_ID], request=None, responses={200: TriggerResponseSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def trigger(self, request, pk=None):
        """Run the schedule once now (also when paused); its timing does not change."""
        run = services.schedule_trigger(schedule=self.get_object())
        return Response({"execution_id": ScheduleRunSerializer(run).data["id"]})

    @extend_schema(
        parameters=[
            SCHEDULE_ID,
            OpenApiParameter("status", str, enum=[s for s, _ in ScheduleRun.STATUSES], description="Only this status."),
        ],
        responses={200: ScheduleRunSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def executions(self, request, pk=None):
        """The run history, newest due time first (paged: offset / limit)."""
        runs = ScheduleRun.objects.filter(schedule=self.get_object())
        wanted = request.query_params.get("status")
        if wanted:
            runs = runs.filter(status=wanted)
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(ScheduleRunSerializer(page, many=True).data)

    @extend_schema(parameters=[SCHEDULE_ID], responses={200: ScheduleStatsSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=None)
    def stats(self, request, pk=None):
        """Counts of runs by outcome, their average duration and the last run's status."""
        stats = services.schedule_stats(schedule=self.get_object())
        return Response(ScheduleStatsSerializer(stats).data)


@extend_schema_view(
    retrieve=extend_schema(
        parameters=[EXECUTION_ID],
        responses={200: ScheduleRunSerializer, 404: OpenApiResponse(description="Execution not found")},
    )
)
class ScheduleRunViewSet(OrgScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One run of a schedule of the caller's organization."""

    queryset = ScheduleRun.objects.all()
    serializer_class = ScheduleRunSerializer
    id_prefix = "schedrun"
    not_found_message = "Execution not found"
    organization_field = "schedule__organization"

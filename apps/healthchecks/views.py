"""/v1/agents/{agent_id}/health-checks: trigger a check, list recent runs, get one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.models import Agent
from apps.core import ids
from apps.core.exceptions import NotFound
from apps.core.permissions import request_organization

from . import services
from .models import HealthCheckRun

AGENT_ID = OpenApiParameter("agent_id", str, OpenApiParameter.PATH, description="Agent id (`agent_…`)")


def _agent(request, agent_id: str) -> Agent:
    public_id = ids.parse_id("agent", agent_id)
    agent = (
        Agent.objects.filter(organization=request_organization(request), public_id=public_id).first()
        if public_id
        else None
    )
    if agent is None:
        raise NotFound("Agent not found")
    return agent


class HealthCheckListView(APIView):
    @extend_schema(
        tags=["agents"],
        operation_id="agents_health_checks_list",
        parameters=[AGENT_ID],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, agent_id: str):
        """The agent's latest health check runs, newest first (a bare array, at most 20)."""
        agent = _agent(request, agent_id)
        return Response([services.run_to_dict(run, agent) for run in services.health_checks_recent(agent=agent)])

    @extend_schema(tags=["agents"], parameters=[AGENT_ID], request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, agent_id: str):
        """Run a short test turn on the agent's current configuration; the run is `pending` until it is done."""
        agent = _agent(request, agent_id)
        return Response(services.run_to_dict(services.health_check_trigger(agent=agent), agent))


class HealthCheckDetailView(APIView):
    @extend_schema(
        tags=["agents"],
        parameters=[AGENT_ID, OpenApiParameter("run_id", str, OpenApiParameter.PATH)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, agent_id: str, run_id: str):
        agent = _agent(request, agent_id)
        pk = ids.parse_id("healthcheck", run_id)
        run = HealthCheckRun.objects.filter(agent=agent, pk=pk).select_related("session").first() if pk else None
        if run is None:
            raise NotFound("Health check not found")
        return Response(services.run_to_dict(run, agent))

"""GET /v1/agents/{id}/stats and /v1/harnesses/{id}/stats: usage of an agent's / a harness's sessions.

Here, not in apps.agents / apps.harnesses, because the numbers come from sessions and turns (apps are layered:
sessions sit above agents and harnesses).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.models import Agent
from apps.core import ids
from apps.core.exceptions import NotFound
from apps.core.permissions import request_organization
from apps.harnesses.services import harness_get

from . import selectors
from .models import Session

WINDOW = [
    OpenApiParameter("from", str, description="Only sessions created at or after this RFC 3339 time."),
    OpenApiParameter("to", str, description="Only sessions created before this RFC 3339 time."),
]
_INT = serializers.IntegerField
_TS = serializers.CharField(allow_null=True)
RESOURCE_STATS = inline_serializer(
    "ResourceStats",
    fields={
        "session_count": _INT(),
        "started_session_count": _INT(),
        "active_session_count": _INT(),
        "idle_session_count": _INT(),
        "waiting_for_tool_results_session_count": _INT(),
        "execution_count": _INT(help_text="Turns"),
        "total_input_tokens": _INT(),
        "total_output_tokens": _INT(),
        "total_cache_read_tokens": _INT(),
        "total_cache_creation_tokens": _INT(),
        "total_session_duration_ms": _INT(),
        "avg_session_duration_ms": _INT(allow_null=True),
        "first_session_at": _TS,
        "last_session_at": _TS,
        "last_execution_at": _TS,
        "total_cost_usd": serializers.FloatField(allow_null=True, help_text="Always null: tokens are not priced."),
        "total_estimated_cost_usd": serializers.FloatField(allow_null=True),
        "total_actual_cost_usd": serializers.FloatField(allow_null=True),
    },
)


class AgentStatsView(APIView):
    @extend_schema(
        tags=["agents"],
        parameters=[OpenApiParameter("agent_id", str, OpenApiParameter.PATH), *WINDOW],
        responses={200: RESOURCE_STATS},
    )
    def get(self, request, agent_id: str):
        """Sessions, turns, tokens and durations of the agent's sessions (optionally within a window)."""
        organization = request_organization(request)
        public_id = ids.parse_id("agent", agent_id)
        agents = Agent.objects.filter(organization=organization)
        agent = (
            agents.filter(public_id=public_id).first()
            if public_id
            else None
            if "\x00" in agent_id
            else agents.filter(name=agent_id).order_by("status", "-created_at").first()
        )
        if agent is None:
            raise NotFound("Agent not found")
        sessions = Session.objects.filter(agent=agent, **selectors.stats_window(request.query_params))
        return Response(selectors.resource_stats(sessions))


class HarnessStatsView(APIView):
    @extend_schema(
        tags=["harnesses"],
        parameters=[OpenApiParameter("harness_id", str, OpenApiParameter.PATH), *WINDOW],
        responses={200: RESOURCE_STATS},
    )
    def get(self, request, harness_id: str):
        """Sessions, turns, tokens and durations of the sessions that ran on the harness."""
        harness = harness_get(organization=request_organization(request), ref=harness_id)
        sessions = Session.objects.filter(harness=harness, **selectors.stats_window(request.query_params))
        return Response(selectors.resource_stats(sessions))

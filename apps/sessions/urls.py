from django.urls import path
from rest_framework.routers import SimpleRouter

from .stats_views import AgentStatsView, HarnessStatsView
from .views import SessionStreamView, SessionViewSet

app_name = "sessions"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = [
    # The stream is a dedicated view, not a viewset action (conventions rule 13).
    path("sessions/<str:pk>/sse", SessionStreamView.as_view(), name="session-sse"),
    *router.urls,
    path("agents/<str:agent_id>/stats", AgentStatsView.as_view(), name="agent-stats"),
    path("harnesses/<str:harness_id>/stats", HarnessStatsView.as_view(), name="harness-stats"),
]

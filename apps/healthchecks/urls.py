from django.urls import path

from .views import HealthCheckDetailView, HealthCheckListView

app_name = "healthchecks"

urlpatterns = [
    path("agents/<str:agent_id>/health-checks", HealthCheckListView.as_view(), name="health-check-list"),
    path("agents/<str:agent_id>/health-checks/<str:run_id>", HealthCheckDetailView.as_view(), name="health-check"),
]

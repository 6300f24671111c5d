"""Agent health checks: a short test turn on the agent's current configuration (docs/agents.md)."""

from django.db import models

from apps.core.models import PublicModel


class HealthCheckRun(PublicModel):
    """One triggered check. Its status and results are read from the session it ran in (the turn's outcome),
    so the runner needs no knowledge of health checks."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="health_checks")
    session = models.ForeignKey("agent_sessions.Session", null=True, on_delete=models.SET_NULL, related_name="+")
    config_hash = models.CharField(max_length=80)
    model_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "-created_at"], name="healthcheck_agent_created")]

    def __str__(self) -> str:
        return f"health check {self.pk}"

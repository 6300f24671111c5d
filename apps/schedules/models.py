"""Durable schedules (published spec `durable-schedules`) and their run history (docs/automation.md)."""

from django.db import models
from django.db.models import Q

from apps.core.models import PublicModel


class Schedule(PublicModel):
    """A cron expression or a fixed interval, in a time zone, that posts a message into a session or a new one."""

    TARGET_SESSION = "session.run"  # input: {"session_id", "message"}: a message into that session
    TARGET_AGENT = "agent.run"  # input: {"agent_id", "message", "title"?}: a new session per run
    TARGETS = [(TARGET_SESSION, TARGET_SESSION), (TARGET_AGENT, TARGET_AGENT)]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    cron_expression = models.CharField(max_length=200, null=True, blank=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    target_name = models.CharField(max_length=32, choices=TARGETS)
    target_input = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    catch_up_missed = models.BooleanField(default=False)
    max_catch_up = models.PositiveIntegerField(null=True, blank=True)
    max_concurrent = models.PositiveIntegerField(null=True, blank=True)
    retry_policy = models.JSONField(null=True, blank=True)
    # Intervals count from here (creation, or the last change of the interval).
    anchor_at = models.DateTimeField()
    # None while paused. The tick fires schedules whose next_run_at has passed.
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="schedule_name_unique"),
            models.CheckConstraint(
                condition=Q(cron_expression__isnull=False, interval_seconds__isnull=True)
                | Q(cron_expression__isnull=True, interval_seconds__isnull=False),
                name="schedule_cron_xor_interval",
            ),
        ]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="schedule_due")]

    def __str__(self) -> str:
        return self.name


class ScheduleRun(PublicModel):
    """One fire of a schedule (the spec's "execution"): when it was due, what it started, how it ended."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    STATUSES = [(s, s) for s in (PENDING, RUNNING, COMPLETED, FAILED, SKIPPED)]
    TRIGGERS = [("schedule", "schedule"), ("manual", "manual")]

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    scheduled_at = models.DateTimeField()
    trigger = models.CharField(max_length=16, choices=TRIGGERS, default="schedule")
    status = models.CharField(max_length=16, choices=STATUSES, default=RUNNING)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, null=True, blank=True)
    # The session the run posted into (or created).
    session = models.ForeignKey(
        "agent_sessions.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            # Exactly once: a second worker firing the same due time fails to insert and does nothing.
            models.UniqueConstraint(
                fields=["schedule", "scheduled_at"], condition=Q(trigger="schedule"), name="schedule_run_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} @ {self.scheduled_at} ({self.status})"

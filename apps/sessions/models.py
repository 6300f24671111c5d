"""Sessions, turns and the append-only event log (contract 3.2, 3.5, 6).

Messages are not a table: they are read back from `input.message`, `output.message.completed`
and `tool.completed` events (contract 3.3, "storage model").
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.ids import uuid7
from apps.core.models import PublicModel
from apps.core.usage import UsageFields


class Session(PublicModel, UsageFields):
    """One conversation with one agent."""

    STATUS_STARTED = "started"
    STATUS_ACTIVE = "active"
    STATUS_IDLE = "idle"
    # Its turn is paused, waiting for the client (a client-side tool result, an approval, an answer): the
    # published spec's name for it. Lifecycle: apps.sessions.turns.
    STATUS_WAITING = "waiting_for_tool_results"
    STATUSES = [(s, s) for s in (STATUS_STARTED, STATUS_ACTIVE, STATUS_IDLE, STATUS_WAITING)]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="sessions")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="sessions")
    # Who created it (the admin's "owner" column); null for sessions made without a user (AUTH_MODE=none
    # without one, commands, sessions older than the column) and when the user is deleted.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.TextField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    model = models.ForeignKey("llm.LlmModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    capabilities = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=32, choices=STATUSES, default=STATUS_STARTED)
    preview = models.TextField(null=True, blank=True)
    output_preview = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last allocated event sequence; bumped under the row lock by event_append (gapless per session).
    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="session_org_created"),
            models.Index(fields=["organization", "agent", "-created_at", "-id"], name="session_org_agent_created"),
        ]

    def __str__(self) -> str:
        return self.title or f"session {self.pk}"


class Turn(PublicModel, UsageFields):
    """One run of the agent loop for a session. At most one open (queued/running/paused) turn per session
    (DB-enforced). Every status change goes through apps.sessions.turns (the state diagram is there)."""

    STATUS_QUEUED = "queued"
    STATUS_RUNNING = "running"
    STATUS_PAUSED = "paused"  # waiting for the client; no worker holds it (apps.sessions.turns.pause)
    STATUS_COMPLETED = "completed"
    STATUS_FAILED = "failed"
    STATUS_CANCELLED = "cancelled"
    STATUSES = [
        (s, s)
        for s in (STATUS_QUEUED, STATUS_RUNNING, STATUS_PAUSED, STATUS_COMPLETED, STATUS_FAILED, STATUS_CANCELLED)
    ]
    OPEN_STATUSES = (STATUS_QUEUED, STATUS_RUNNING, STATUS_PAUSED)

    # Set by apps.sessions.turns.claim (not stored): True when the claimed turn had started before (taken
    # over after its worker died, or resumed after a pause), so the runner continues it instead of starting.
    resumed: bool = False

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="turns")
    status = models.CharField(max_length=16, choices=STATUSES, default=STATUS_QUEUED)
    input_message_id = models.UUIDField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    iterations = models.IntegerField(default=0)
    error = models.TextField(null=True, blank=True)
    error_code = models.CharField(max_length=32, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Liveness of the worker running this turn; a stale heartbeat means the worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=128, null=True, blank=True)
    # The provider-side name of the model the turn's latest reasoning step called (written by the runner
    # with the step's usage; shown to operators in the admin).
    model = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status__in=("queued", "running", "paused")),
                name="one_open_turn_per_session",
            ),
        ]
        # The operations dashboard (apps.runtime.dashboard): open turns, turns ended / started lately.
        indexes = [
            models.Index(fields=["status"], name="turn_status"),
            models.Index(fields=["finished_at"], name="turn_finished_at"),
            models.Index(fields=["created_at"], name="turn_created_at"),
        ]

    def __str__(self) -> str:
        return f"turn {self.pk} ({self.status})"


class Event(models.Model):
    """An append-only record of something that happened in a session; `sequence` is gapless per session."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    sequence = models.BigIntegerField()
    type = models.CharField(max_length=64)
    ts = models.DateTimeField()
    context = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    tags = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["session", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sequence"], name="uniq_event_sequence"),
        ]
        indexes = [
            models.Index(fields=["session", "type", "sequence"], name="event_session_type_seq"),
            # Model latency on the operations dashboard: only the (few) llm.generation events are indexed.
            models.Index(fields=["ts"], condition=Q(type="llm.generation"), name="event_generation_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence}"

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
    # Its turn is paused, waiting for the client (a client-side tool result, an approval, an answer). The wire
    # value is the one the official SDK 0.3.1 parses (`SessionStatus` = "waitingfortoolresults", the server's
    # lowercase enum); the spec's prose spells it waiting_for_tool_results. Lifecycle: apps.sessions.turns.
    STATUS_WAITING = "waitingfortoolresults"
    STATUSES = [(s, s) for s in (STATUS_STARTED, STATUS_ACTIVE, STATUS_IDLE, STATUS_WAITING)]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="sessions")
    # Optional: a session may run on its harness alone (the spec's `agent_id` is optional).
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="sessions")
    # The harness this session runs on: the agent's at creation unless the request names another.
    harness = models.ForeignKey(
        "harnesses.Harness", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    # The agent version this session was created with; its turns run on it even after the agent changes.
    agent_version = models.ForeignKey(
        "agents.AgentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    # Who created it (the admin's "owner" column); null for sessions made without a user (AUTH_MODE=none
    # without one, commands, sessions older than the column) and when the user is deleted.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.TextField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    model = models.ForeignKey("llm.LlmModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Session-level layers on top of the agent's (docs/sessions.md, "Layering"): capability refs, client-side
    # tool definitions, starter files, a system prompt prepended to the agent's.
    capabilities = models.JSONField(default=list, blank=True)
    tools = models.JSONField(default=list, blank=True)
    initial_files = models.JSONField(default=list, blank=True)
    system_prompt = models.TextField(null=True, blank=True)
    locale = models.CharField(max_length=35, null=True, blank=True)
    hints = models.JSONField(null=True, blank=True)
    # A subagent's parent (nothing spawns subagents yet: always null, the field is the spec's).
    parent_session = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_sessions"
    )
    # POST /v1/sessions/{id}/fork: the session and the event sequence this one was copied from.
    forked_from_session = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    forked_from_sequence = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32, choices=STATUSES, default=STATUS_STARTED)
    preview = models.TextField(null=True, blank=True)
    output_preview = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The API key the session was created with (None: a browser session / JWT). With `created_by`, the
    # session's owner: whose usage it is (apps.usage) and whose own provider connection a turn may use.
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
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


class SessionPin(models.Model):
    """A user pinned a session (per user: `is_pinned` of the API is the caller's)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="pins")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="session_pins")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "session"], name="uniq_session_pin")]

    def __str__(self) -> str:
        return f"pin of {self.session_id} by {self.user_id}"


class SessionSecret(models.Model):
    """A write-only secret of a session: AES-GCM ciphertext under the provider-key key ring (apps.llm.crypto).

    Handed to the session's tools in their ToolContext; never returned by the API or written to a log.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=128)
    value_encrypted = models.TextField(editable=False)
    key_id = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "name"]
        constraints = [models.UniqueConstraint(fields=["session", "name"], name="uniq_session_secret_name")]

    def __str__(self) -> str:
        return f"secret {self.name} of {self.session_id}"

"""The usage ledger (one row per model call, priced) and budgets that cap it (docs/usage.md)."""

from decimal import Decimal

from django.db import models

from apps.core.ids import uuid7
from apps.core.models import PublicModel

# Money: USD with 12 decimal places: a price has 6 and is per million tokens, so every call's cost is exact.
MONEY_DIGITS, MONEY_PLACES = 28, 12


class UsageRecord(models.Model):
    """One LLM call: its tokens, its model and provider, its exact cost, and who it is attributed to.

    Rows are written by apps.usage.services.usage_record (called by the runtime for every model call that
    returned usage) and never changed. Deleting a session, agent, user or key keeps the rows (the foreign
    keys are set null): what was spent stays spent.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(db_index=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey("agents.Agent", null=True, on_delete=models.SET_NULL, related_name="+")
    # Agent versions do not exist yet: the column is there so rows recorded from then on carry it.
    agent_version_id = models.UUIDField(null=True, blank=True)
    session = models.ForeignKey("agent_sessions.Session", null=True, on_delete=models.SET_NULL, related_name="+")
    turn = models.ForeignKey("agent_sessions.Turn", null=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.ForeignKey("accounts.ApiKey", null=True, on_delete=models.SET_NULL, related_name="+")
    model = models.ForeignKey("llm.LlmModel", null=True, on_delete=models.SET_NULL, related_name="+")
    # The names at call time (the model row may be renamed or deleted later).
    model_name = models.CharField(max_length=255)
    provider_type = models.CharField(max_length=32)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_creation_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0))

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="usage_org_created")]

    def __str__(self) -> str:
        return f"{self.model_name}: {self.input_tokens}+{self.output_tokens} tokens, ${self.cost_usd}"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_creation_tokens


class Budget(PublicModel):
    """A spending cap for one subject (organization, agent, session, API key or user) in usd or tokens.

    `consumed` is what the current period used, net of top-ups (a top-up lowers it), so the balance is
    `limit - consumed`. A periodic budget (`period`: day or month, UTC calendar) starts every period at 0.
    Enforced before every model call of a turn whose session falls under the subject (apps.usage.budgets).
    """

    SUBJECT_TYPES = [(s, s) for s in ("organization", "agent", "session", "api_key", "user")]
    CURRENCIES = [("usd", "usd"), ("tokens", "tokens")]
    PERIODS = [("day", "day"), ("month", "month")]
    STATUSES = [(s, s) for s in ("active", "paused", "disabled")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    subject_type = models.CharField(max_length=16, choices=SUBJECT_TYPES)
    # The subject's key: the agent's public id, the session's, user's, API key's or organization's pk.
    subject_id = models.UUIDField()
    currency = models.CharField(max_length=8, choices=CURRENCIES)
    limit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    # The warning threshold: a `budget.warning` event when the balance drops below it (default: 20% of
    # the limit, i.e. at 80% used).
    soft_limit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    period = models.CharField(max_length=8, choices=PERIODS, null=True, blank=True)
    period_started_at = models.DateTimeField(null=True, blank=True)
    consumed = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0))
    # The largest single charge seen: what a model call in flight is assumed to cost (apps.usage.budgets).
    max_charge = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0))
    status = models.CharField(max_length=16, choices=STATUSES, default="active")
    warned = models.BooleanField(default=False)  # the warning of the current period was sent
    metadata = models.JSONField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "subject_type", "subject_id"], name="budget_subject")]
        constraints = [
            models.CheckConstraint(condition=models.Q(limit__gte=0), name="budget_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type} budget: {self.limit} {self.currency}"

    @property
    def balance(self) -> Decimal:
        return self.limit - self.consumed

    @property
    def threshold(self) -> Decimal:
        """Below this balance the budget warns."""
        return self.soft_limit if self.soft_limit is not None else self.limit * Decimal("0.2")

    @property
    def state(self) -> str:
        """The API's status: `exhausted` when an active budget has nothing left."""
        if self.status == "active" and self.balance <= 0:
            return "exhausted"
        return self.status


class BudgetLedgerEntry(models.Model):
    """One movement of a budget: a model call's charge (positive) or a top-up (negative). Never changed."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="entries")
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    meter_source = models.CharField(max_length=32)
    ref_type = models.CharField(max_length=32, null=True, blank=True)
    ref_id = models.CharField(max_length=64, null=True, blank=True)
    session = models.ForeignKey("agent_sessions.Session", null=True, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} ({self.meter_source})"


class BudgetHold(models.Model):
    """A model call in flight on a budget: counted as `max_charge` against the balance until it is charged.

    Held by a running turn; a hold whose turn is no longer running or stopped heart-beating is ignored.
    """

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="holds")
    turn = models.ForeignKey("agent_sessions.Turn", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["budget", "turn"], name="one_hold_per_budget_turn")]

    def __str__(self) -> str:
        return f"hold on {self.budget_id} by {self.turn_id}"

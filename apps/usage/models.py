"""The usage ledger (one row per model call, priced) and budgets that cap it (docs/usage.md)."""

from decimal import Decimal

from django.db import models

from apps.core.ids import uuid7

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

"""Token usage counters shared by agents, sessions and turns (contract 3.4)."""

from django.db import models
from django.db.models import F


class UsageFields(models.Model):
    """Cumulative token usage; incremented atomically with F() so concurrent turns never lose counts."""

    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_creation_tokens = models.BigIntegerField(default=0)

    USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")

    class Meta:
        abstract = True

    @property
    def usage(self) -> dict | None:
        """TokenUsage, or None before the first turn produced any."""
        values = {key: getattr(self, key) for key in self.USAGE_KEYS}
        if not any(values.values()):
            return None
        return values


def usage_increment_expressions(usage: dict | None) -> dict:
    """`{"input_tokens": F("input_tokens") + n, …}` for a queryset.update()."""
    usage = usage or {}
    return {key: F(key) + int(usage.get(key) or 0) for key in UsageFields.USAGE_KEYS if usage.get(key)}

"""Reads of the usage ledger: totals over a time window, grouped and filtered (docs/usage.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from .models import UsageRecord

TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
# group_by value -> the ledger columns that identify a group.
GROUPS: dict[str, tuple[str, ...]] = {
    "day": ("day",),
    "model": ("model_id", "model_name", "provider_type"),
    "agent": ("agent__public_id",),
    "session": ("session_id",),
    "api_key": ("api_key_id",),
    "user": ("user_id",),
}


@dataclass
class UsageFilter:
    """A time window [start, end) and optional equality filters (primary keys, already parsed)."""

    start: datetime
    end: datetime
    filters: dict[str, Any] = field(default_factory=dict)


def usage_records(*, organization, query: UsageFilter) -> QuerySet[UsageRecord]:
    """The organization's ledger rows in the window matching the filters, oldest first."""
    return UsageRecord.objects.filter(
        organization=organization, created_at__gte=query.start, created_at__lt=query.end, **query.filters
    ).order_by("created_at", "id")


def _totals(values: dict) -> dict:
    out: dict[str, Any] = {key: int(values.get(key) or 0) for key in TOKEN_KEYS}
    out["total_tokens"] = sum(out.values())
    out["cost_usd"] = values.get("cost_usd") or Decimal(0)
    out["calls"] = int(values.get("calls") or 0)
    return out


AGGREGATES = {
    **{key: Sum(key) for key in TOKEN_KEYS},
    "cost_usd": Sum("cost_usd"),
    "calls": Count("id"),
}


def usage_summary(*, organization, query: UsageFilter, group_by: str | None) -> tuple[list[dict], dict]:
    """(groups, totals): token and cost sums per group (`group_by` one of GROUPS, or None for none), and
    over the whole window. Sums are done by the database over the same rows `usage_records` returns, so
    they equal the per-call rows exactly (Decimal). Groups are ordered by their key."""
    rows = usage_records(organization=organization, query=query)
    totals = _totals(rows.aggregate(**AGGREGATES))
    if group_by is None:
        return [], totals
    columns = GROUPS[group_by]
    if group_by == "day":
        rows = rows.annotate(day=TruncDate("created_at"))
    grouped = rows.order_by().values(*columns).annotate(**AGGREGATES).order_by(*columns)
    return [{**{c: row[c] for c in columns}, **_totals(row)} for row in grouped], totals

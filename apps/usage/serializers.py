"""Request and response shapes of the usage API (docs/usage.md)."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import PublicIdField, TimestampField

from .selectors import GROUPS

DEFAULT_WINDOW = timedelta(days=30)


@extend_schema_field(OpenApiTypes.STR)
class WindowField(serializers.Field):
    """An ISO 8601 datetime (with offset; naive = UTC) or a date (its midnight UTC)."""

    def to_representation(self, value):
        return value.isoformat()

    def to_internal_value(self, data) -> datetime:
        text = data if isinstance(data, str) else ""
        try:
            value = parse_datetime(text)
            if value is None and (day := parse_date(text)) is not None:
                value = datetime.combine(day, time.min)
        except ValueError:
            value = None
        if value is None:
            raise serializers.ValidationError("not an ISO 8601 date or datetime")
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


class UsageQuerySerializer(serializers.Serializer):
    """Query parameters of GET /v1/usage and /v1/usage/export."""

    start = WindowField(required=False, help_text="Window start (inclusive); default: 30 days before `end`.")
    end = WindowField(required=False, help_text="Window end (exclusive); default: now.")
    group_by = serializers.ChoiceField(choices=sorted(GROUPS), required=False)
    agent_id = PublicIdField("agent", required=False)
    session_id = PublicIdField("session", required=False)
    model_id = PublicIdField("model", required=False)
    api_key_id = serializers.UUIDField(required=False)
    user_id = serializers.UUIDField(required=False)
    provider_type = serializers.CharField(max_length=32, required=False)

    def validate(self, attrs):
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - DEFAULT_WINDOW
        if start >= end:
            raise serializers.ValidationError("start must be before end")
        attrs.update(start=start, end=end)
        return attrs

    def query_filters(self) -> dict:
        """The validated filters as ledger lookups."""
        data = self.validated_data
        lookups = {
            "agent_id": "agent__public_id",
            "session_id": "session_id",
            "model_id": "model_id",
            "api_key_id": "api_key_id",
            "user_id": "user_id",
            "provider_type": "provider_type",
        }
        return {lookup: data[name] for name, lookup in lookups.items() if name in data}


class UsageTotalsSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cache_read_tokens = serializers.IntegerField()
    cache_creation_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=28, decimal_places=12, help_text="Exact, as a decimal string (USD).")
    calls = serializers.IntegerField(help_text="Model calls in the group.")


class UsageGroupSerializer(UsageTotalsSerializer):
    """One group; only the key fields of the requested `group_by` are present."""

    day = serializers.DateField(required=False)
    model_id = PublicIdField("model", required=False, allow_null=True)
    model_name = serializers.CharField(required=False)
    provider_type = serializers.CharField(required=False)
    agent_id = serializers.CharField(required=False, allow_null=True)
    session_id = PublicIdField("session", required=False, allow_null=True)
    api_key_id = serializers.UUIDField(required=False, allow_null=True)
    user_id = serializers.UUIDField(required=False, allow_null=True)


class UsageReportSerializer(serializers.Serializer):
    """`data`: the groups (empty without `group_by`); `totals`: over the whole window."""

    data = UsageGroupSerializer(many=True)  # type: ignore[assignment]  # the response's `data` key
    total = serializers.IntegerField()
    totals = UsageTotalsSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    group_by = serializers.CharField(allow_null=True)


# --------------------------------------------------------------------------- budgets (the SDK's shapes)
PERIOD_ALIASES = {"daily": "day", "day": "day", "monthly": "month", "month": "month", "none": None}


def money_field(**kwargs) -> serializers.DecimalField:
    """An amount in the budget's currency: a JSON number in (converted exactly from its text), out as a number."""
    return serializers.DecimalField(max_digits=28, decimal_places=12, coerce_to_string=False, **kwargs)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["none", "daily", "monthly"]},
            {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": ["calendar"]}, "unit": {"type": "string"}},
                "required": ["type", "unit"],
            },
        ],
        "nullable": True,
    }
)
class PeriodField(serializers.Field):
    """`none` / `daily` / `monthly`, or the SDK's `{"type": "calendar", "unit": "day" | "month"}`; stored as
    day / month / None. Other period kinds (duration, rolling; hour, week, year) are not supported: 400."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data in PERIOD_ALIASES:
            return PERIOD_ALIASES[data]
        if isinstance(data, dict) and data.get("type") == "calendar" and data.get("unit") in ("day", "month"):
            return data["unit"]
        raise serializers.ValidationError("period must be none, daily, monthly or a calendar day/month period")

    def to_representation(self, value):
        return {"type": "calendar", "unit": value} if value else None


class BudgetCreateSerializer(serializers.Serializer):
    subject_type = serializers.CharField(
        max_length=16, help_text="organization (or org), agent, session, api_key or user."
    )
    subject_id = serializers.CharField(max_length=80, help_text="org_…, agent_…, session_…, or a user / API key id.")
    currency = serializers.ChoiceField(choices=["usd", "tokens"])
    limit = money_field(min_value=Decimal(0))
    soft_limit = money_field(min_value=Decimal(0), required=False, allow_null=True)
    period = PeriodField(required=False, allow_null=True)
    metadata = serializers.JSONField(required=False, allow_null=True)


class BudgetUpdateSerializer(serializers.Serializer):
    limit = money_field(min_value=Decimal(0), required=False)
    soft_limit = money_field(min_value=Decimal(0), required=False, allow_null=True)
    status = serializers.ChoiceField(choices=["active", "paused", "disabled"], required=False)
    metadata = serializers.JSONField(required=False, allow_null=True)


class TopUpSerializer(serializers.Serializer):
    amount = money_field(min_value=Decimal(0))
    description = serializers.CharField(max_length=1000, required=False, allow_null=True)


class BudgetSerializer(serializers.Serializer):
    """A budget (SDK `Budget`); `balance` = limit - consumed this period; `status` `exhausted` when nothing is
    left of an active budget."""

    id = PublicIdField("bdgt", read_only=True)
    organization_id = PublicIdField("org", read_only=True)
    subject_type = serializers.CharField()
    subject_id = serializers.SerializerMethodField()
    currency = serializers.CharField()
    limit = money_field()
    soft_limit = money_field(allow_null=True)
    balance = money_field()
    status = serializers.CharField(source="state")
    period = PeriodField(allow_null=True)
    period_started_at = TimestampField(allow_null=True)
    metadata = serializers.JSONField(allow_null=True)
    created_at = TimestampField()
    updated_at = TimestampField()

    def get_subject_id(self, budget) -> str:
        from .budgets import subject_key

        return subject_key(budget)


class LedgerEntrySerializer(serializers.Serializer):
    """One movement of a budget: positive = consumption, negative = top-up."""

    id = PublicIdField("ledger", read_only=True)
    budget_id = PublicIdField("bdgt", read_only=True)
    amount = money_field()
    meter_source = serializers.CharField()
    ref_type = serializers.CharField(allow_null=True)
    ref_id = serializers.CharField(allow_null=True)
    session_id = PublicIdField("session", read_only=True, allow_null=True)
    description = serializers.CharField(allow_null=True)
    created_at = TimestampField()


class BudgetCheckResultSerializer(serializers.Serializer):
    """The most restrictive verdict: action continue, warn or stop (with the budget that decided)."""

    action = serializers.CharField()
    balance = serializers.FloatField(allow_null=True)
    budget_id = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    error_code = serializers.CharField(allow_null=True)
    error_fields = serializers.DictField(allow_null=True)
    message = serializers.CharField(allow_null=True)

"""Request and response shapes of the usage API (docs/usage.md)."""

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import PublicIdField

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

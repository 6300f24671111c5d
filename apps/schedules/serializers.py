"""Request and response shapes of /v1/durable/schedules and /v1/durable/executions (published spec
`durable-schedules`, plus `interval_seconds`, `next_run_at` and the run's `session_id` / `trigger`)."""

from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictBooleanField, StrictCharField, StrictIntegerField, TimestampField

from .models import Schedule, ScheduleRun
from .services import TARGET_TYPE


class ScheduleTargetSerializer(serializers.Serializer):
    """What a fire does. `session.run`: {session_id, message} posts into that session; `agent.run`:
    {agent_id, message, title?} starts a new session per run."""

    type = serializers.ChoiceField(choices=[TARGET_TYPE], default=TARGET_TYPE)
    name = serializers.ChoiceField(choices=[name for name, _ in Schedule.TARGETS])
    input = serializers.DictField()


class ScheduleSerializer(serializers.ModelSerializer):
    """A schedule as the API shows it."""

    id = PublicIdField("sched", read_only=True)
    target = serializers.SerializerMethodField()
    next_trigger_at = TimestampField(source="next_run_at", read_only=True, allow_null=True)
    next_run_at = TimestampField(read_only=True, allow_null=True)
    last_triggered_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "description",
            "cron_expression",
            "interval_seconds",
            "timezone",
            "target",
            "enabled",
            "catch_up_missed",
            "max_catch_up",
            "max_concurrent",
            "retry_policy",
            "next_trigger_at",
            "next_run_at",
            "last_triggered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_target(self, obj: Schedule) -> dict:
        return {"type": TARGET_TYPE, "name": obj.target_name, "input": obj.target_input}


class ScheduleCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    cron_expression = StrictCharField(required=False, allow_null=True, max_length=200)
    interval_seconds = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=366 * 86400)
    timezone = StrictCharField(required=False, default="UTC", max_length=64)
    target = ScheduleTargetSerializer()
    enabled = StrictBooleanField(required=False, default=True)
    catch_up_missed = StrictBooleanField(required=False, default=False)
    max_catch_up = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    max_concurrent = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    retry_policy = serializers.JSONField(required=False, allow_null=True)


class ScheduleUpdateSerializer(serializers.Serializer):
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    cron_expression = StrictCharField(required=False, allow_null=True, max_length=200)
    interval_seconds = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=366 * 86400)
    timezone = StrictCharField(required=False, max_length=64)
    target = ScheduleTargetSerializer(required=False)
    enabled = StrictBooleanField(required=False)
    catch_up_missed = StrictBooleanField(required=False)
    max_catch_up = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    max_concurrent = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    retry_policy = serializers.JSONField(required=False, allow_null=True)


class ScheduleRunSerializer(serializers.ModelSerializer):
    """One fire of a schedule (the spec's ScheduleExecutionResponse)."""

    id = PublicIdField("schedrun", read_only=True)
    schedule_id = PublicIdField("sched", read_only=True)
    session_id = PublicIdField("session", read_only=True, allow_null=True)
    scheduled_at = TimestampField(read_only=True)
    started_at = TimestampField(read_only=True)
    completed_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    task_id = serializers.SerializerMethodField()
    workflow_id = serializers.SerializerMethodField()

    class Meta:
        model = ScheduleRun
        fields = [
            "id",
            "schedule_id",
            "scheduled_at",
            "started_at",
            "completed_at",
            "duration_ms",
            "status",
            "error",
            "trigger",
            "session_id",
            "task_id",
            "workflow_id",
            "created_at",
        ]
        read_only_fields = fields

    def get_task_id(self, obj: ScheduleRun) -> str | None:
        return None  # no separate durable task engine here: the run is the session's turn

    def get_workflow_id(self, obj: ScheduleRun) -> str | None:
        return None


class ScheduleStatsSerializer(serializers.Serializer):
    total_executions = serializers.IntegerField()
    successful_executions = serializers.IntegerField()
    failed_executions = serializers.IntegerField()
    skipped_executions = serializers.IntegerField()
    avg_duration_ms = serializers.IntegerField(allow_null=True)
    last_execution_status = serializers.CharField(allow_null=True)


class TriggerResponseSerializer(serializers.Serializer):
    execution_id = serializers.CharField()
